"""The Python API: a store opened read-only, its reports as Arrow, pandas or polars tables and
the call-level facts as a polars frame, for analysts who live in notebooks.

    import pbxlens
    lens = pbxlens.open("data/pbxlens.duckdb")
    r = lens.report("cdr.queues", start="2026-05-01", end="2026-05-31",
                    filters={"queue": ["700"]})
    r.to_pandas(); r.to_polars(); r.to_arrow(); r.to_xlsx("queues.xlsx")
    lens.calls(start="2026-05-01", end="2026-05-31")  # a polars LazyFrame

A report is the same `Result` that the web app, the CLI and the exports show: the same
numbers, the same privacy mask for the same user, the same guard (settings
`report_time_limit_s`, `report_max_months`; `open(..., time_limit=0, max_months=0)` lifts
them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.reports import Guard, Params, Report, Result, all_reports, get, run
from pbxlens.reports import export as report_export
from pbxlens.reports.catalog import TableOut
from pbxlens.store import analytics
from pbxlens.store.privacy import NUMBER_KEYS, mask_number, mask_result  # masking, once

# unit -> Arrow type of a report column (money: exact decimals, inferred from the values)
_ARROW_TYPES = {"count": pa.int64(), "duration": pa.int64(), "duration_h": pa.int64(),
                "instant": pa.int64(), "percent": pa.float64(), "decimal": pa.float64()}

CALLS_SQL = """
SELECT f.tenant, f.unique_id, f.leg_branch, c.start_ts, c.answer_ts, c.end_ts, f.day, f.hr,
  f.dow, f.direction, f.status, f.caller, f.called, c.answered_by, f.account_code,
  f.gateway_name, f.dur_s, f.wait_s, f.talk_s, c.bill_s
FROM call_facts f
JOIN calls c ON c.tenant = f.tenant AND c.unique_id = f.unique_id
  AND c.leg_branch = f.leg_branch
WHERE f.day >= CAST(? AS DATE) AND f.day <= CAST(? AS DATE) AND f.tenant = coalesce(?, f.tenant)
ORDER BY c.start_ts, f.unique_id, f.leg_branch
"""


def _day(value: date | str | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise PbxlensError(f"{name}: not a date YYYY-MM-DD: {value!r}") from None


def _table_arrow(t: TableOut) -> pa.Table:
    """One report table: label, level, key, the row's extra keys, then one typed column per
    report column (durations in seconds, money as exact decimals)."""
    extras = [k for r in t.rows for k in r if k not in ("label", "level", "key")
              and k not in {c.key for c in t.columns}]
    cols: dict[str, pa.Array] = {
        "label": pa.array([r["label"] for r in t.rows], pa.string()),
        "level": pa.array([r["level"] for r in t.rows], pa.int64()),
        "key": pa.array([r.get("key") for r in t.rows], pa.string()),
    }
    for k in dict.fromkeys(extras):
        cols[k] = pa.array([None if r.get(k) is None else str(r[k]) for r in t.rows], pa.string())
    for c in t.columns:
        values = [r.get(c.key) for r in t.rows]
        cols[c.key] = pa.array(values, _ARROW_TYPES.get(c.unit) or _money_type(values))
    return pa.table(cols)


def _money_type(values: list) -> pa.DataType:
    """Exact decimals with as many places as the values have (at least the per-call 5)."""
    places = [-v.as_tuple().exponent for v in values if v is not None]
    return pa.decimal128(38, max([5, *places]))


@dataclass
class ReportFrame:
    """One report run: `result` (what pages and exports show) and its tables as frames."""

    result: Result

    @property
    def tables(self) -> list[str]:
        """The keys of the report's tables (one table, or one per queue, code, ...)."""
        return [t.key for t in self.result.tables]

    def _table(self, table: int | str) -> TableOut:
        if isinstance(table, int):
            return self.result.tables[table]
        for t in self.result.tables:
            if t.key == table:
                return t
        raise KeyError(table)

    def to_arrow(self, table: int | str | None = None) -> pa.Table:
        """The rows of one table (by index or key), or with `None` of every table, stacked
        under a leading `table` column (the table's key) with the union of their columns."""
        if table is not None:
            return _table_arrow(self._table(table))
        parts = []
        for t in self.result.tables:
            a = _table_arrow(t)
            parts.append(a.add_column(0, "table", pa.array([t.key] * a.num_rows, pa.string())))
        if not parts:
            return pa.table({"table": pa.array([], pa.string())})
        return pa.concat_tables(parts, promote_options="permissive")

    def to_pandas(self, table: int | str | None = None):
        return self.to_arrow(table).to_pandas()

    def to_polars(self, table: int | str | None = None):
        import polars as pl

        return pl.from_arrow(self.to_arrow(table))

    def totals(self, table: int | str = 0) -> dict:
        """The totals row of a table (raw values, money as Decimal)."""
        return dict(self._table(table).totals)

    def summary(self, table: int | str = 0) -> dict:
        """The header strip of a table."""
        return dict(self._table(table).summary)

    def to_json(self) -> str:
        """`pbxlens report ID --format json`."""
        return report_export.to_json(self.result)

    def to_xlsx(self, path: str | Path) -> None:
        """The typed workbook of the export (one sheet per table)."""
        report_export.to_xlsx(self.result, path)


class Lens:
    """A store opened read-only, seen as one user sees it (privacy mask, tenant)."""

    def __init__(self, path: str | Path, *, privacy: bool = True, tenant: str | None = None,
                 user: Any = None, lang: str = "en", guard: Guard | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise PbxlensError(f"no store at {self.path}")
        self.con = analytics.connect(self.path, read_only=True)
        self.privacy = privacy
        self.tenant = tenant
        self.user = user
        self.lang = lang
        self.guard = guard

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Lens:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def reports(self) -> list[Report]:
        """The reports this lens may run, in catalog order."""
        return [r for r in all_reports() if self._may_see(r.id)]

    def _may_see(self, report_id: str) -> bool:
        if self.user is None:
            return True
        from pbxlens.dashboards import access

        return access.can_see_report(self.user, report_id)

    def report(self, report_id: str, start: date | str | None = None,
               end: date | str | None = None, filters: dict[str, Any] | None = None,
               lang: str | None = None) -> ReportFrame:
        """Run a report over [start, end] (PBX-local days, both inclusive; default: the
        settings' default range ending today); `filters` as {key: value or [values]}."""
        try:
            defn = get(report_id)
        except KeyError:
            raise PbxlensError(f"unknown report {report_id!r}; see lens.reports()") from None
        if not self._may_see(defn.id):
            raise PbxlensError(f"you may not see {report_id}")
        chosen = {k: [str(x) for x in (v if isinstance(v, list | tuple) else [v])]
                  for k, v in (filters or {}).items()}
        params = Params(date_from=_day(start, "start"), date_to=_day(end, "end"),
                        filters=chosen, lang=lang or self.lang, tenant=self.tenant)
        result = run(self.con, defn, params, guard=self.guard)
        return ReportFrame(mask_result(result, self.privacy))

    def span(self) -> tuple[date, date] | None:
        """The first and last PBX-local day with calls (of the lens's tenant), or None."""
        first, last = self.con.execute(
            "SELECT min(day), max(day) FROM call_facts WHERE tenant = coalesce(?, tenant)",
            [self.tenant]).fetchone()
        return None if first is None else (first, last)

    def calls(self, start: date | str | None = None, end: date | str | None = None, *,
              lazy: bool = True):
        """The calls of [start, end] (PBX-local start days), one row per call: instants,
        direction, status, numbers (masked without the privacy right), and the seconds the
        reports sum (dur_s, wait_s, talk_s, bill_s). A polars LazyFrame, or a DataFrame with
        `lazy=False`."""
        import polars as pl

        d_from, d_to = Params(date_from=_day(start, "start"), date_to=_day(end, "end")
                              ).resolved()
        if self.guard is not None:
            self.guard.check_range("calls", d_from, d_to)
        # a stream of Arrow batches (DuckDB >= 1.4), read into one frame
        batches = self.con.execute(CALLS_SQL, [d_from.isoformat(), d_to.isoformat(),
                                               self.tenant]).arrow()
        frame = pl.from_arrow(batches.read_all() if hasattr(batches, "read_all") else batches)
        if not self.privacy:
            frame = frame.with_columns(
                pl.col(c).map_elements(mask_number, return_dtype=pl.String)
                for c in frame.columns if c in NUMBER_KEYS)
        return frame.lazy() if lazy else frame


def open(path: str | Path | None = None, *, privacy: bool | Any = True,
         lang: str = "en", time_limit: float | None = None,
         max_months: int | None = None) -> Lens:
    """Open the store at `path` (default: the settings' `db`) read-only.

    `privacy`: True shows full external numbers, False masks them as for a user without the
    privacy right; a user object (the web app's, with `privacy`, `tenant` and `role`) sees
    what that user sees: its tenant, its reports, its mask. `time_limit` / `max_months`
    override the settings' guard (0: no limit).
    """
    settings = get_settings()
    guard = Guard(time_limit_s=settings.report_time_limit_s if time_limit is None
                  else time_limit,
                  max_months=settings.report_max_months if max_months is None else max_months)
    user = None if isinstance(privacy, bool) else privacy
    return Lens(path or settings.db, privacy=privacy if user is None else bool(user.privacy),
                tenant=None if user is None else user.tenant, user=user, lang=lang,
                guard=guard)
