"""A queue's own definition of its service-level KPIs (anchors §2.1-2.2), kept where people edit
it (the operations store) and copied for report SQL into DuckDB by a writer job.

Per queue and interval, with T the service-level threshold and S the short-abandon threshold:
A = answered visits, A(w<=T) = answered within T s of entering the queue, R = offered visits
(every visit of the queue), Ab = abandoned visits (the caller hung up: CANCELED),
Ab(w<S) = short abandons (abandoned in less than S s). The service-level variants:

- ``abandon_aware`` (default): A(w<=T) / (A + Ab − Ab(w<S))  (anchors §2.1 recommendation;
  timeouts and visits never queued are outside it)
- ``offered``:          A(w<=T) / R
- ``answered``:         A(w<=T) / A                           (Asterisk's own SL, Wazo `qos`)
- ``offered_no_short``: A(w<=T) / (R − Ab(w<S))

ASA = Σ (answer − entry) of answered visits / A, floored; abandonment rate =
Ab(w>=S) / (R − never queued − Ab(w<S)). A queue without a definition follows the settings
(`service_level_s`, `short_abandon_s`, `service_level_target_pct`, `service_level_variant`),
so stores where nobody set one report exactly what they reported before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.store import schema as S
from pbxlens.store.schema import SL_VARIANTS

# variant -> (English formula, Italian formula)
FORMULAS = {
    "abandon_aware": ("answered within T s / (answered + abandoned − short abandons)",
                      "risposte entro T s / (risposte + abbandonate − abbandoni brevi)"),
    "offered": ("answered within T s / offered",
                "risposte entro T s / offerte"),
    "answered": ("answered within T s / answered",
                 "risposte entro T s / risposte"),
    "offered_no_short": ("answered within T s / (offered − short abandons)",
                         "risposte entro T s / (offerte − abbandoni brevi)"),
}


class DefinitionError(PbxlensError):
    status = 400


@dataclass(frozen=True)
class QueueDefinition:
    """The service-level definition of one queue (or the default one: qkey '')."""

    qkey: str
    threshold_s: int
    target_pct: int
    variant: str
    short_abandon_s: int
    custom: bool = False

    def explain(self, lang: str = "en") -> str:
        """The definition as a sentence.

        Example:
            >>> QueueDefinition("700", 30, 80, "answered", 5).explain()
            'SL = answered within T s / answered; T = 30 s, target 80 %; short abandon < 5 s'
        """
        en, it = FORMULAS[self.variant]
        if lang == "it":
            return (f"LdS = {it}; T = {self.threshold_s} s, obiettivo {self.target_pct} %; "
                    f"abbandono breve < {self.short_abandon_s} s")
        return (f"SL = {en}; T = {self.threshold_s} s, target {self.target_pct} %; "
                f"short abandon < {self.short_abandon_s} s")


def service_level(variant: str, fast: int, answered: int, abandoned: int, short: int,
                  offered: int) -> float | None:
    """The service level in percent (2 decimals, half-up) of one queue and interval.

    `fast` = A(w<=T), `answered` = A, `abandoned` = Ab (short ones included), `short` =
    Ab(w<S), `offered` = R; None when the denominator is 0.

    Example (10 offered: 6 answered, 4 of them within T; 3 abandoned, 1 of them short; 1
    timeout):
        >>> [service_level(v, 4, 6, 3, 1, 10) for v in SL_VARIANTS]
        [50.0, 40.0, 66.67, 44.44]
    """
    from pbxlens.reports.engine import pct

    den = {"abandon_aware": answered + abandoned - short, "offered": offered,
           "answered": answered, "offered_no_short": offered - short}[_variant(variant)]
    return pct(fast, den)


def _variant(v: str) -> str:
    if v not in SL_VARIANTS:
        raise DefinitionError(f"unknown service-level variant {v!r}; one of "
                              f"{', '.join(SL_VARIANTS)}")
    return v


def default() -> QueueDefinition:
    """The definition of every queue without its own: the settings."""
    st = get_settings()
    return QueueDefinition("", int(st.service_level_s), int(st.service_level_target_pct),
                           _variant(st.service_level_variant), int(st.short_abandon_s))


# The service-level denominator of a row of the queue query, per variant: `n` visits of one
# block (`ans`: answered, `canc`: abandoned, `long`: waited at least S s). Fixed SQL per code.
DEN_SQL = {
    "abandon_aware": "CASE WHEN ans OR (canc AND long) THEN n ELSE 0 END",
    "offered": "n",
    "answered": "CASE WHEN ans THEN n ELSE 0 END",
    "offered_no_short": "CASE WHEN canc AND NOT long THEN 0 ELSE n END",
}


def den_sql(variant_expr: str | None = None, variant: str = "abandon_aware") -> str:
    """The denominator of the service level: for one fixed `variant`, or per row by the value
    of the SQL expression `variant_expr` (each queue its own)."""
    if variant_expr is None:
        return DEN_SQL[_variant(variant)]
    whens = " ".join(f"WHEN '{v}' THEN {DEN_SQL[v]}" for v in SL_VARIANTS)
    return f"CASE {variant_expr} {whens} END"


# ----------------------------------------------------------------------------- the store


def _row(r) -> QueueDefinition:
    return QueueDefinition(r.qkey, r.sl_threshold_s, r.sl_target_pct, r.sl_variant,
                           r.short_abandon_s, custom=True)


def list_definitions(stores, tenant: str) -> list[QueueDefinition]:
    t = S.queue_definitions
    with stores.ops_read() as c:
        rows = c.execute(sa.select(t).where(t.c.tenant == tenant).order_by(t.c.qkey)).all()
    return [_row(r) for r in rows]


def get_definition(stores, tenant: str, qkey: str) -> QueueDefinition:
    """The queue's own definition, else the default one (for that queue)."""
    t = S.queue_definitions
    with stores.ops_read() as c:
        r = c.execute(sa.select(t).where(t.c.tenant == tenant, t.c.qkey == qkey)).first()
    if r is None:
        d = default()
        return QueueDefinition(qkey, d.threshold_s, d.target_pct, d.variant, d.short_abandon_s)
    return _row(r)


def validate(threshold_s: int, target_pct: int, variant: str, short_abandon_s: int) -> None:
    _variant(variant)
    if not 0 <= int(threshold_s) <= 3600:
        raise DefinitionError("the service-level threshold is 0 to 3600 seconds")
    if not 1 <= int(target_pct) <= 100:
        raise DefinitionError("the service-level target is 1 to 100 %")
    if not 0 <= int(short_abandon_s) <= 600:
        raise DefinitionError("the short-abandon threshold is 0 to 600 seconds")


def set_definition(stores, tenant: str, qkey: str, *, threshold_s: int, target_pct: int,
                   variant: str, short_abandon_s: int, by: str | None = None
                   ) -> QueueDefinition:
    """Store a queue's definition (one short transaction) and refresh the DuckDB copy."""
    qkey = (qkey or "").strip()
    if not qkey:
        raise DefinitionError("a definition needs a queue (its id or name)")
    validate(threshold_s, target_pct, variant, short_abandon_s)
    from pbxlens.store import ops

    row = {"tenant": tenant, "qkey": qkey, "sl_threshold_s": int(threshold_s),
           "sl_target_pct": int(target_pct), "sl_variant": variant,
           "short_abandon_s": int(short_abandon_s), "updated_at": datetime.now(UTC),
           "updated_by": by}
    with stores.ops_write() as c:
        ops.upsert(c, S.queue_definitions, row, ["tenant", "qkey"],
                   [k for k in row if k not in ("tenant", "qkey")])
    refresh(stores)
    return QueueDefinition(qkey, int(threshold_s), int(target_pct), variant,
                           int(short_abandon_s), custom=True)


def delete_definition(stores, tenant: str, qkey: str) -> bool:
    """Back to the defaults; True when the queue had a definition."""
    t = S.queue_definitions
    with stores.ops_write() as c:
        n = c.execute(t.delete().where(t.c.tenant == tenant, t.c.qkey == qkey)).rowcount
    refresh(stores)
    return bool(n)


# ----------------------------------------------------------------------------- the copy


def copy_to_analytics(con, engine: sa.Engine) -> dict[str, int]:
    """Replace the DuckDB copies of the definitions and calendars with the operations store's
    (one DuckDB transaction, the body of the writer job `definitions`)."""
    from pbxlens.reports import calendars

    t = S.queue_definitions
    with engine.connect() as c:
        defs = [(r.tenant, r.qkey, r.sl_threshold_s, r.sl_target_pct, r.sl_variant,
                 r.short_abandon_s) for r in c.execute(sa.select(t)).all()]
        cal = calendars.analytics_rows(c)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("queue_definitions", "calendar_hours", "calendar_closed_days",
                      "calendar_assignments"):
            con.execute(f"DELETE FROM {table}")  # noqa: S608 -- names and SQL fragments from code; values bound
        if defs:
            con.executemany("INSERT INTO queue_definitions VALUES (?, ?, ?, ?, ?, ?)", defs)
        for table, rows in cal.items():
            if rows:
                ph = ", ".join("?" for _ in rows[0])
                con.executemany(f"INSERT INTO {table} VALUES ({ph})", rows)  # noqa: S608 -- names and SQL fragments from code; values bound
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"queue_definitions": len(defs), **{k: len(v) for k, v in cal.items()}}


def refresh(stores, *, wait: bool = False):
    """Submit the writer job that refreshes the DuckDB copies and return it. The web app does
    not wait for it (an edit never waits on DuckDB); without a server the writer runs it
    inline, before this returns."""
    job = stores.writer.submit("definitions", "definitions and calendars",
                               lambda ctx: copy_to_analytics(ctx.con, ctx.ops))
    if wait:
        job.wait()
    return job


# ----------------------------------------------------------------------------- reports


def custom_count(con, tenant: str | None) -> int:
    """How many queues (of the tenant, or of every tenant) have their own definition."""
    return con.execute("SELECT count(*) FROM queue_definitions WHERE tenant = coalesce(?, tenant)",
                       [tenant]).fetchone()[0]


def explain_queues(con, tenant: str | None, lang: str) -> list[tuple[str, str]]:
    """The definitions block of the queue reports: the default definition, then each queue
    with its own (label from the directory)."""
    it = lang == "it"
    out = [("definizione del livello di servizio" if it else "service-level definition",
            default().explain(lang) + (" (predefinita, dalle impostazioni)" if it else
                                       " (default, from the settings)"))]
    rows = con.execute(
        "SELECT d.qkey, coalesce(q.name, d.qkey), d.sl_threshold_s, d.sl_target_pct, "
        "d.sl_variant, d.short_abandon_s FROM queue_definitions d "
        "LEFT JOIN queues q ON q.tenant = d.tenant AND q.id = d.qkey "
        "WHERE d.tenant = coalesce(?, d.tenant) ORDER BY 2, 1", [tenant]).fetchall()
    for qkey, label, t, target, variant, s in rows:
        name = label if label == qkey else f"{label} ({qkey})"
        d = QueueDefinition(qkey, t, target, variant, s, custom=True)
        out.append((("livello di servizio · " if it else "service level · ") + name,
                    d.explain(lang)))
    return out
