"""The rating engine: per-call costs under Nexus tariffs and PBX billing profiles, in DuckDB SQL.

Every run rates a *scope* of calls (one ingest batch, the calls a tariff change can touch, or
the whole store) set-based, then writes to ``call_costs`` only the rows whose values changed:
rating twice changes nothing, and a change rewrites only the calls it affects plus the later
calls of the same free-allowance pool (tariff, tenant, company, year) whose consumption shifts.

The inputs are the persisted rating keys (rating_keys.py: number, gateway, line, account,
computed once per call at ingest): the tariff choice runs per key and validity segment and is
joined back to the calls by key id; a tariff change re-rates the calls of the keys it matches;
an edit of prices only re-prices its tariff's calls in place (reprice_tariffs).

Decisions (docs/decisions.md "Billing"; nexus_modules.md C.2, C.6, errata):
- billed seconds = ceil(bill_secs) (errata "Billed seconds": whole seconds rounded up);
- only incoming/outgoing calls with bill_secs > 0 are rated (C.2 step 1, L18314);
- tariff precedence: company set > tenant set > gateway set > longest prefix > countries set >
  latest valid_from > lowest id (BL-4); validity is inclusive on the PBX local day;
- the annual free allowance is one pool per (tariff, tenant, company, calendar year), consumed in
  start order (ties by unique_id, leg_branch) by the billed seconds, before the initial block /
  increment rounding (C.7); the answer charge is always due (BL-2);
- charged(x) = 0 if x = 0, the initial block if x <= block, else block + ceil((x - block) /
  increment) * increment; cost = answer + rate * charged / 60, rounded once, half-up, to 5 dp,
  and at least the tariff's minimum charge when charged > 0 (0080_billing_minimum_bundles.sql);
- profiles: exact > longest prefix > any (PB-1); cost = connectionfee + nextunitsfee *
  ceil((s - connectionduration) / nextunitsduration) when s > connectionduration and
  nextunitsduration > 0 (flat rules otherwise, PB-3); a rule without fees charges nothing.
Money is integer hundred-thousandths inside the SQL (exact), DECIMAL(18,5) in the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pbxlens.billing import rating_keys

SCRATCH = ("_bill_cfg", "_bill_scope", "_bill_in_s", "_bill_t", "_bill_kc", "_bill_choice",
           "_bill_whole", "_bill_pool", "_bill_base", "_bill_others", "_bill_diff")

VALUE_COLS = ("tenant, unique_id, leg_branch, method, tariff_id, profile_id, rule_id, direction, "
              "start_ts, day, yr, company, extension, gateway, billed_s, free_s, charged_s, cost, "
              "cost_nofree")
KEY = ("tenant", "unique_id", "leg_branch")


def _on(a: str, b: str, cols: tuple[str, ...] = KEY) -> str:
    return " AND ".join(f"{a}.{c} = {b}.{c}" for c in cols)


def _charged(x: str, block: str, inc: str) -> str:
    """Seconds billed for x billable seconds under an initial block and an increment."""
    return (f"(CASE WHEN {x} <= 0 THEN 0 WHEN {x} <= {block} THEN {block} "
            f"ELSE {block} + (({x} - {block} + {inc} - 1) // {inc}) * {inc} END)")


def _with_minimum(charged: str) -> str:
    """Cost units of a call: answer + rate x charged / 60 (half-up), at least the tariff's
    minimum when seconds are charged (a call the free minutes cover owes the answer charge)."""
    plain = f"a_u + (r_u * {charged} + 30) // 60"
    return f"(CASE WHEN {charged} > 0 THEN greatest(m_u, {plain}) ELSE {plain} END)"


def _money(units: str) -> str:
    """Integer hundred-thousandths of a euro -> DECIMAL(18,5), exactly."""
    return f"CAST(CAST({units} AS DECIMAL(18, 0)) * CAST(0.00001 AS DECIMAL(6, 5)) AS DECIMAL(18, 5))"


def _units(dec: str) -> str:
    return f"CAST(coalesce({dec}, 0) * 100000 AS BIGINT)"


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _bill_cfg AS SELECT CAST(? AS TEXT) AS seize, "
                "CAST(? AS TEXT) AS home", list(rating_keys.settings()))


def company_joins(c: str = "c") -> str:
    """The joins giving call `c` its operator (`op`) and company (`op.organization`, name
    `org.name`): the account or extension that answered an incoming call, else the one that
    placed an outgoing call (BL-7). Shared by rating and multiservice."""
    return f"""LEFT JOIN accounts a ON a.tenant = {c}.tenant
  AND a.account = CASE WHEN {c}.direction = 'incoming' THEN {c}.answered_by ELSE {c}.src_peer_name END
LEFT JOIN operators op ON op.tenant = {c}.tenant AND op.extension = coalesce(a.extension,
  CASE WHEN {c}.direction = 'incoming' THEN {c}.answered_by ELSE coalesce({c}.src_extension, {c}.caller) END)
LEFT JOIN organizations org ON org.tenant = {c}.tenant AND org.id = op.organization"""


def _between(col: str, lo, hi) -> str:
    """A constant range predicate (dates from the store, never user text) for zone-map pruning."""
    if lo is None:
        return " AND false"
    return f" AND {col} BETWEEN DATE '{lo.isoformat()}' AND DATE '{hi.isoformat()}'"


def _build_inputs(con: duckdb.DuckDBPyConnection, scoped: bool, bounds: str = "") -> None:
    """The ratable calls of the scope (`_bill_in`: call, kid, start, day, year, billed seconds,
    from rating_calls). Every call is a row of the persisted rating_calls: no call_legs, no
    regular expression here (rating_keys.py computed those once, when the call was loaded)."""
    if scoped:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _bill_in_s AS
SELECT rc.* FROM rating_calls rc SEMI JOIN _bill_scope s ON {_on("s", "rc")}
WHERE true {bounds}""")  # noqa: S608 -- names and SQL fragments from code; values bound
        con.execute("CREATE OR REPLACE TEMP VIEW _bill_in AS SELECT * FROM _bill_in_s")
    else:  # every call: read the stored rows as they are
        con.execute("CREATE OR REPLACE TEMP VIEW _bill_in AS SELECT * FROM rating_calls")


def _build_keys(con: duckdb.DuckDBPyConnection, scoped: bool) -> None:
    """The keys of the calls of `_bill_in` with the company the directory gives them today
    (`_bill_kc`)."""
    keys = ("rating_keys k SEMI JOIN (SELECT DISTINCT kid FROM _bill_in) i ON i.kid = k.kid"
            if scoped else "rating_keys k")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _bill_kc AS
SELECT k.kid, k.tenant, k.dir, k.gw, k.line, k.num, coalesce(op.organization, '') AS company,
  org.name AS company_name, op.extension AS extension
FROM {keys}
{key_company_joins("k")}""")  # noqa: S608 -- names and SQL fragments from code; values bound


def key_company_joins(k: str = "k") -> str:
    """company_joins() for a rating key `k` (acc = the account, ext = the extension that
    answered an incoming call / placed an outgoing one)."""
    return f"""LEFT JOIN accounts a ON a.tenant = {k}.tenant AND a.account = {k}.acc
LEFT JOIN operators op ON op.tenant = {k}.tenant AND op.extension = coalesce(a.extension, {k}.ext)
LEFT JOIN organizations org ON org.tenant = {k}.tenant AND org.id = op.organization"""


def _build_tariffs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
CREATE OR REPLACE TEMP TABLE _bill_t AS
WITH t AS (
  SELECT t.*, d.dir,
    CASE WHEN d.dir = 'in' THEN t.rate_in ELSE t.rate_out END AS rate,
    CASE WHEN d.dir = 'in' THEN t.inbound_gateway ELSE t.outbound_config END AS gw,
    (SELECT list(tc.calling_code) FROM billing_tariff_countries tc WHERE tc.tariff_id = t.id) AS ccs
  FROM billing_tariffs t CROSS JOIN (SELECT 'in' AS dir UNION ALL SELECT 'out' AS dir) d
  WHERE t.active)
SELECT id, dir, tenant, company, gw, nullif(prefix, '') AS prefix, valid_from, valid_to, ccs,
  CAST(coalesce(free_minutes, 0) * 60 AS BIGINT) AS free_l, initial_block_s AS blk, increment_s AS inc,
  CAST(coalesce(answer_charge, 0) * 100000 AS BIGINT) AS a_u, CAST(rate * 100000 AS BIGINT) AS r_u,
  CAST(coalesce(min_charge, 0) * 100000 AS BIGINT) AS m_u,
  row_number() OVER (ORDER BY (company IS NOT NULL) DESC, (tenant IS NOT NULL) DESC,
    (gw IS NOT NULL) DESC, length(coalesce(prefix, '')) DESC, (ccs IS NOT NULL) DESC,
    valid_from DESC, id) AS rnk
FROM t WHERE rate IS NOT NULL""")


# The tariff choice depends on a call only through its key (direction, tenant, company,
# gateway, number) and its day. Per key, the tariffs whose other conditions it meets are its
# candidates; their validity bounds cut the days into segments over which the candidates
# valid do not change, and the choice of a segment is its best-ranked valid candidate. A call
# then takes the choice of its key's segment holding its day (one join on the key id): the
# matching runs on the keys (thousands) instead of on every call (millions).
# every condition of a tariff on a key but the company (which needs the directory)
_MATCH_BUT_COMPANY = """t.dir = k.dir
    AND (t.tenant IS NULL OR t.tenant = k.tenant)
    AND (t.gw IS NULL OR t.gw = k.gw)
    AND (t.prefix IS NULL OR starts_with(k.num, t.prefix))
    AND (t.ccs IS NULL OR len(list_filter(t.ccs, x -> starts_with(k.num, '00' || x)
         OR (x = g.home AND NOT starts_with(k.num, '00')))) > 0)"""
_MATCH = _MATCH_BUT_COMPANY + """
    AND (t.company IS NULL OR t.company = k.company OR t.company = k.company_name)"""

_CHOICE = f"""
CREATE OR REPLACE TEMP TABLE _bill_choice AS
WITH cand AS (
  SELECT k.kid, t.id, t.rnk, t.valid_from, t.valid_to
  FROM _bill_kc k CROSS JOIN _bill_cfg g JOIN _bill_t t ON {_MATCH}
), bounds AS (
  SELECT kid, valid_from AS d FROM cand
  UNION SELECT kid, valid_to + 1 FROM cand WHERE valid_to IS NOT NULL
), seg AS (
  SELECT kid, d AS d0, coalesce(lead(d) OVER (PARTITION BY kid ORDER BY d), DATE '9999-12-31')
    AS d1
  FROM bounds
), pick AS (
  SELECT s.kid, s.d0, s.d1, arg_min(c.id, c.rnk) AS tariff_id
  FROM seg s JOIN cand c ON c.kid = s.kid AND c.valid_from <= s.d0
    AND (c.valid_to IS NULL OR c.valid_to >= s.d0)
  GROUP BY s.kid, s.d0, s.d1
)
SELECT p.*, k.dir, k.company, k.extension, k.gw FROM pick p JOIN _bill_kc k ON k.kid = p.kid"""  # noqa: S608 -- names and SQL fragments from code; values bound

_ROWS = """
CREATE OR REPLACE TEMP VIEW _bill_rows AS
SELECT i.tenant, i.unique_id, i.leg_branch, ch.tariff_id, ch.dir AS direction, i.start_ts, i.day,
  i.yr, ch.company, ch.extension, ch.gw AS gateway, i.s AS billed_s, false AS other
FROM _bill_in i JOIN _bill_choice ch ON ch.kid = i.kid AND i.day >= ch.d0 AND i.day < ch.d1"""

# Pools whose running sums can change: those of the new rows and of the old rows of the scope,
# but for the tariffs whose every stored row is in the scope (_bill_whole: the tariffs a
# re-rating took all the calls of): nothing of such a pool precedes its first call in the scope
# and no later call of it lies outside, so it has no prior use and no others to replay.
_POOLS = """
CREATE OR REPLACE TEMP TABLE _bill_pool AS
SELECT tariff_id, tenant, company, yr, min(start_ts) AS t0 FROM (
  SELECT r.tariff_id, r.tenant, r.company, r.yr, r.start_ts FROM _bill_rows r
  JOIN _bill_t t ON t.id = r.tariff_id AND t.dir = r.direction WHERE t.free_l > 0
  {old}) p
WHERE tariff_id NOT IN (SELECT id FROM _bill_whole)
GROUP BY tariff_id, tenant, company, yr"""
_POOLS_OLD = """
  UNION ALL
  SELECT cc.tariff_id, cc.tenant, cc.company, cc.yr, cc.start_ts FROM call_costs cc
  JOIN _bill_scope s ON {on}
  WHERE cc.method = 'tariff' {bounds} AND (cc.free_s > 0 OR cc.tariff_id IN (
    SELECT id FROM billing_tariffs WHERE free_minutes > 0))"""

# What each pool had used before its first changed call (t0): those calls keep their values.
# A pool already exhausted by then cannot move: its later calls keep free_s = 0 whatever the
# change, so only the pools with allowance left at t0 replay their later calls (_bill_others).
_BASE = """
CREATE OR REPLACE TEMP TABLE _bill_base AS
WITH prior AS (
  SELECT cc.tariff_id, cc.tenant, cc.company, cc.yr, sum(cc.billed_s) AS used
  FROM call_costs cc
  JOIN _bill_pool p ON p.tariff_id = cc.tariff_id AND p.tenant = cc.tenant AND p.company = cc.company
    AND p.yr = cc.yr AND cc.start_ts < p.t0
  WHERE cc.method = 'tariff' {years}
  GROUP BY cc.tariff_id, cc.tenant, cc.company, cc.yr)
SELECT p.*, coalesce(prior.used, 0) AS used, coalesce(t.free_l, 0) AS free_l
FROM _bill_pool p
LEFT JOIN prior ON prior.tariff_id = p.tariff_id AND prior.tenant = p.tenant
  AND prior.company = p.company AND prior.yr = p.yr
LEFT JOIN (SELECT id, max(free_l) AS free_l FROM _bill_t GROUP BY id) t ON t.id = p.tariff_id"""

_OTHERS = """
CREATE OR REPLACE TEMP TABLE _bill_others AS
SELECT cc.tenant, cc.unique_id, cc.leg_branch, cc.tariff_id, cc.direction, cc.start_ts, cc.day,
  cc.yr, cc.company, cc.extension, cc.gateway, cc.billed_s, true AS other
FROM call_costs cc
JOIN _bill_base p ON p.tariff_id = cc.tariff_id AND p.tenant = cc.tenant AND p.company = cc.company
  AND p.yr = cc.yr AND p.used < p.free_l AND cc.start_ts >= p.t0
WHERE cc.method = 'tariff' {years}
  AND NOT EXISTS (SELECT 1 FROM _bill_scope s WHERE {on})"""

# The free allowance: per pool (tariff, tenant, company, year) the billed seconds are summed per
# day, the running total gives what was used before each day; a day that starts with the
# allowance exhausted has free_s = 0 for all its calls, and only the (few) days that start with
# allowance left run the exact per-call running sum, in start order (C.2). Same result as one
# window over the whole year, without sorting millions of calls.
_TARIFF_NEW = """
WITH r AS (
  SELECT r.*, t.free_l, t.blk, t.inc, t.a_u, t.r_u, t.m_u FROM (
    SELECT * FROM _bill_rows {others}) r
  JOIN _bill_t t ON t.id = r.tariff_id AND t.dir = r.direction),
base AS (
  {base}),
d AS (
  SELECT tariff_id, tenant, company, yr, day, any_value(free_l) AS free_l, sum(billed_s) AS s
  FROM r WHERE free_l > 0 GROUP BY tariff_id, tenant, company, yr, day),
dc AS (
  SELECT d.tariff_id, d.tenant, d.company, d.day, coalesce(base.used, 0) + coalesce(sum(d.s) OVER (
      PARTITION BY d.tariff_id, d.tenant, d.company, d.yr ORDER BY d.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_day
  FROM d LEFT JOIN base ON base.tariff_id = d.tariff_id AND base.tenant = d.tenant
    AND base.company = d.company AND base.yr = d.yr),
open_days AS (SELECT dc.* FROM dc JOIN d USING (tariff_id, tenant, company, day)
  WHERE dc.before_day < d.free_l),
w AS (
  SELECT r.*, o.before_day + coalesce(sum(r.billed_s) OVER (
      PARTITION BY r.tariff_id, r.tenant, r.company, r.day
      ORDER BY r.start_ts, r.unique_id, r.leg_branch
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS used_before
  FROM r JOIN open_days o ON o.tariff_id = r.tariff_id AND o.tenant = r.tenant
    AND o.company = r.company AND o.day = r.day),
f AS (
  SELECT w.* EXCLUDE (used_before),
    CAST(least(w.billed_s, greatest(0, w.free_l - w.used_before)) AS INTEGER) AS free_s FROM w
  UNION ALL
  SELECT r.*, 0 AS free_s FROM r ANTI JOIN open_days o ON o.tariff_id = r.tariff_id
    AND o.tenant = r.tenant AND o.company = r.company AND o.day = r.day),
g AS (
  SELECT f.*, {charged} AS charged_s, {charged_full} AS charged_full FROM f)
SELECT tenant, unique_id, leg_branch, 'tariff' AS method, tariff_id, CAST(NULL AS BIGINT) AS profile_id,
  CAST(NULL AS BIGINT) AS rule_id, direction, start_ts, day, yr, company, extension, gateway,
  billed_s, free_s, CAST(charged_s AS INTEGER) AS charged_s,
  {cost} AS cost, {cost_nofree} AS cost_nofree
FROM g"""

_PROFILE_NEW = """
WITH m AS (
  SELECT k.kid, any_value(k.company) AS company, any_value(k.extension) AS extension,
    any_value(k.line) AS line, p.id AS profile_id,
    arg_max(r.id, CASE r.kind WHEN 'exact' THEN 1000000 WHEN 'prefix' THEN 1000 + length(r.selection)
        ELSE 0 END * 100000 - r.pos) AS rule_id
  FROM _bill_kc k
  JOIN billing_profile_lines pl ON pl.tenant = k.tenant AND pl.line = k.line
  JOIN billing_profiles p ON p.id = pl.profile_id AND p.enabled
  JOIN billing_profile_rules r ON r.profile_id = p.id AND (r.kind = 'any'
    OR (r.kind = 'exact' AND r.selection = k.num)
    OR (r.kind = 'prefix' AND starts_with(k.num, r.selection)))
  WHERE k.dir = 'out'
  GROUP BY k.kid, p.id),
c AS (
  SELECT i.*, m.company, m.extension, m.line, m.profile_id, m.rule_id,
    {cf} + CASE WHEN i.s > coalesce(r.connection_s, 0) AND coalesce(r.next_s, 0) > 0
                 AND r.next_fee IS NOT NULL
            THEN {nf} * ((i.s - coalesce(r.connection_s, 0) + r.next_s - 1) // r.next_s) ELSE 0 END
      AS cost_u
  FROM _bill_in i JOIN m ON m.kid = i.kid
  JOIN billing_profile_rules r ON r.id = m.rule_id
  WHERE r.connection_fee IS NOT NULL OR r.next_fee IS NOT NULL)
SELECT tenant, unique_id, leg_branch, 'profile' AS method, CAST(NULL AS BIGINT) AS tariff_id,
  profile_id, rule_id, 'out' AS direction, start_ts, day, yr, company, extension, line AS gateway,
  s AS billed_s, 0 AS free_s, s AS charged_s, {cost} AS cost, {cost} AS cost_nofree
FROM c"""


def _years(con: duckdb.DuckDBPyConnection, pools: str) -> str:
    """A constant range of years (from the store) of these pools, for zone-map pruning; none:
    a false condition (the scan is skipped)."""
    y = con.execute(f"SELECT min(yr), max(yr) FROM {pools}").fetchone()  # noqa: S608 -- names and SQL fragments from code; values bound
    return f" AND cc.yr BETWEEN {int(y[0])} AND {int(y[1])}" if y[0] is not None else " AND false"


@dataclass(frozen=True)
class _Known:
    """What the caller of _rate already knows of its scope; _rate skips finding it out.
    calls_read: _bill_in_s holds the scope's rating_calls rows. keys_ready: _bill_cfg, _bill_t,
    _bill_kc and _bill_choice hold every key of the scope, its choice already stored. whole:
    the tariffs all of whose stored rows are in the scope. old_in_whole: every stored tariff
    row of the scope's calls is one of theirs. stored: some call of the scope has a stored row
    (None: look). tariffs_only: only tariffs changed, so the scope's profile rows (which no
    tariff enters) are neither computed nor read again."""

    calls_read: bool = False
    keys_ready: bool = False
    whole: tuple[int, ...] = ()
    old_in_whole: bool = False
    stored: bool | None = None
    tariffs_only: bool = False


def _rate(con: duckdb.DuckDBPyConnection, scoped: bool, *, bound_old: bool = True,
          known: _Known = _Known()) -> dict[str, int]:
    """Rate the calls of _bill_scope (or every call) and write the changed rows. bound_old=False
    when a call's stored day may differ from its scope day (a re-ingested call whose start
    changed): its old cost row is then looked up without the day bounds."""
    rating_keys.ensure(con)
    run_id = con.execute("SELECT nextval('billing_run_seq')").fetchone()[0]
    if not known.keys_ready:
        _prepare(con)
    if not scoped:
        con.execute("CREATE OR REPLACE TEMP TABLE _bill_scope (tenant TEXT, unique_id TEXT, "
                    "leg_branch SMALLINT, day DATE)")
    # Constant day bounds of the scope: the scans of rating_calls and call_costs skip the row
    # groups outside them (zone maps; both tables are stored roughly in time order).
    lo, hi = con.execute("SELECT min(day), max(day) FROM _bill_scope").fetchone()
    if not known.calls_read:
        _build_inputs(con, scoped, _between("rc.day", lo, hi) if scoped else "")
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW _bill_in AS SELECT * FROM _bill_in_s")
    if not known.keys_ready:
        _build_keys(con, scoped)
        _build_tariffs(con)
        con.execute(_CHOICE)
        _keep_choice(con, every_key=not scoped)
    elif scoped:  # the caller's keys may be many more than the scope's: keep the scope's
        con.execute("CREATE OR REPLACE TEMP TABLE _bill_kc AS SELECT k.* FROM _bill_kc k "
                    "SEMI JOIN (SELECT DISTINCT kid FROM _bill_in) i ON i.kid = k.kid")
        con.execute("CREATE OR REPLACE TEMP TABLE _bill_choice AS SELECT c.* FROM _bill_choice c "
                    "SEMI JOIN _bill_kc k ON k.kid = c.kid")
    con.execute(_ROWS)
    if scoped:
        con.execute("CREATE OR REPLACE TEMP TABLE _bill_whole AS SELECT unnest(?::BIGINT[]) AS id",
                    [list(known.whole)])
        old_pools = "" if known.old_in_whole else _POOLS_OLD.format(
            on=_on("cc", "s"), bounds=_between("cc.day", lo, hi) if bound_old else "")
        con.execute(_POOLS.format(old=old_pools))
        # the years of the pools: their prior use, the later calls to replay (those with
        # allowance left)
        con.execute(_BASE.format(years=_years(con, "_bill_pool")))
        con.execute(_OTHERS.format(on=_on("s", "cc"), years=_years(
            con, "_bill_base WHERE used < free_l")))
        others = "UNION ALL SELECT * FROM _bill_others WHERE other"
        base = "SELECT tariff_id, tenant, company, yr, used FROM _bill_base"
    else:
        others = ""
        base = ("SELECT CAST(NULL AS BIGINT) AS tariff_id, CAST(NULL AS TEXT) AS tenant, "
                "CAST(NULL AS TEXT) AS company, CAST(NULL AS SMALLINT) AS yr, 0 AS used WHERE false")
    tariff_sql = _TARIFF_NEW.format(
        others=others, base=base,
        charged=_charged("f.billed_s - f.free_s", "f.blk", "f.inc"),
        charged_full=_charged("f.billed_s", "f.blk", "f.inc"),
        cost=_money(_with_minimum("charged_s")),
        cost_nofree=_money(_with_minimum("charged_full")))
    profile_sql = _PROFILE_NEW.format(cf=_units("r.connection_fee"), nf=_units("r.next_fee"),
                                      cost=_money("cost_u"))
    new = (tariff_sql if known.tariffs_only else
           f"SELECT * FROM ({tariff_sql}) UNION ALL SELECT * FROM ({profile_sql})")  # noqa: S608 -- names and SQL fragments from code; values bound
    old = _old_rows(con, scoped, known, lo, hi, bound_old)
    written, deleted = _write(con, old, new, run_id, known.stored)
    rated = con.execute("SELECT count(*) FROM _bill_in").fetchone()[0]
    _drop(con)
    return {"run_id": run_id, "calls": rated, "written": written, "deleted": deleted}


def _old_rows(con: duckdb.DuckDBPyConnection, scoped: bool, known: _Known, lo, hi,
              bound_old: bool) -> str:
    """The SELECT of the stored rows the new ones replace (with their rowid, `orow`): every
    row of the scope's calls, and the tariff rows of the later calls of their pools (disjoint
    sets); without a scope, every row."""
    if not scoped:
        return f"SELECT rowid AS orow, {VALUE_COLS} FROM call_costs"  # noqa: S608 -- names and SQL fragments from code; values bound
    top = con.execute("SELECT max(day) FROM _bill_others WHERE other").fetchone()[0]
    hi2 = max(d for d in (hi, top) if d is not None) if (hi or top) else None
    bounds = _between("cc.day", lo, hi2) if bound_old else ""
    # (equality joins only: a condition on the method in the ON clause made it a nested
    # loop, minutes on 10M calls)
    if known.old_in_whole:
        # their tariff rows are the rows of the whole tariffs: read by tariff (the scan
        # skips every other row), only the profile rows are looked up by call
        old = (f"SELECT cc.rowid AS orow, {_cols('cc')} FROM call_costs cc "  # noqa: S608 -- names and SQL fragments from code; values bound
               f"WHERE cc.method = 'tariff' AND cc.tariff_id IN (SELECT id FROM _bill_whole) {bounds}")
        if not known.tariffs_only:
            old += (f" UNION ALL SELECT cc.rowid AS orow, {_cols('cc')} FROM call_costs cc SEMI JOIN "  # noqa: S608 -- names and SQL fragments from code; values bound
                    f"_bill_scope a ON {_on('a', 'cc')} WHERE cc.method = 'profile' {bounds}")
    else:
        method = "cc.method = 'tariff'" if known.tariffs_only else "true"
        old = (f"SELECT cc.rowid AS orow, {_cols('cc')} FROM call_costs cc SEMI JOIN _bill_scope a "  # noqa: S608 -- names and SQL fragments from code; values bound
               f"ON {_on('a', 'cc')} WHERE {method} {bounds}")
    if top is not None:
        old += (f" UNION ALL SELECT cc.rowid AS orow, {_cols('cc')} FROM call_costs cc SEMI JOIN "  # noqa: S608 -- names and SQL fragments from code; values bound
                f"_bill_others a ON {_on('a', 'cc')} WHERE cc.method = 'tariff' {bounds}")
    return old


def _write(con: duckdb.DuckDBPyConnection, old: str, new: str, run_id: int,
           stored: bool | None = None) -> tuple[int, int]:
    """Replace the old rows of the scope by the new ones, touching only what changed: rows are
    matched on their key (one hash join), compared column by column; nothing old -> one insert
    (the first rating of a store, a batch of new calls, writes without comparing). stored:
    whether there are old rows, when the caller knows (None: look)."""
    if stored is None:
        stored = con.execute(f"SELECT EXISTS ({old})").fetchone()[0]
    if not stored:
        n = con.execute(f"INSERT INTO call_costs SELECT {VALUE_COLS}, ? FROM ({new})",  # noqa: S608 -- names and SQL fragments from code; values bound
                        [run_id]).fetchone()[0]
        return n, 0
    keys = (*KEY, "method")
    cols = [c for c in VALUE_COLS.replace(" ", "").split(",") if c not in keys]
    differs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in cols)
    # bit i of `changed` set: the row's column cols[i] changes (computed on the kept rows only)
    mask = " + ".join(f"CAST(o.{c} IS DISTINCT FROM n.{c} AS INTEGER) * {1 << i}"
                      for i, c in enumerate(cols))
    # the key columns only matter to the rows to insert (an updated row keeps its key): not
    # writing them for the others spares copying a long text per changed row
    key_vals = ", ".join(f"CASE WHEN o.orow IS NULL THEN n.{c} END AS {c}" for c in keys)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _bill_diff AS
SELECT o.orow, n.unique_id IS NOT NULL AS has_new, {mask} AS changed, {key_vals},
  {", ".join(f"n.{c}" for c in cols)} FROM ({old}) o
FULL JOIN ({new}) n ON {_on('o', 'n', keys)}
WHERE o.orow IS NULL OR n.unique_id IS NULL OR {differs}""")  # noqa: S608 -- names and SQL fragments from code; values bound
    # a changed row is updated in place (about half the time of a delete and an insert); it
    # counts as deleted and written, as a row that goes or comes. Only the columns some row
    # changes are set: an update's cost grows with its columns (a new allowance changes 4 of 15)
    bits = con.execute("SELECT bit_or(changed) FROM _bill_diff "
                       "WHERE orow IS NOT NULL AND has_new").fetchone()[0] or 0
    sets = ", ".join(f"{c} = d.{c}" for i, c in enumerate(cols) if bits >> i & 1)
    changed = 0 if not bits else con.execute(
        f"UPDATE call_costs SET {sets}, run_id = ? FROM _bill_diff d "  # noqa: S608 -- names and SQL fragments from code; values bound
        "WHERE call_costs.rowid = d.orow AND d.has_new", [run_id]).fetchone()[0]
    gone = con.execute("DELETE FROM call_costs WHERE rowid IN (SELECT orow FROM _bill_diff "
                       "WHERE orow IS NOT NULL AND NOT has_new)").fetchone()[0]
    came = con.execute(f"INSERT INTO call_costs SELECT {VALUE_COLS}, ? FROM _bill_diff "  # noqa: S608 -- names and SQL fragments from code; values bound
                       "WHERE orow IS NULL", [run_id]).fetchone()[0]
    return changed + came, changed + gone


def _cols(alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in VALUE_COLS.split(","))


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS _bill_rows")
    con.execute("DROP VIEW IF EXISTS _bill_in")
    for t in SCRATCH:
        con.execute(f"DROP TABLE IF EXISTS {t}")


def rate_batch(con: duckdb.DuckDBPyConnection, batch_id: int) -> dict[str, int]:
    """Rate the calls one ingest batch inserted or replaced (the pipeline's rating step)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _bill_scope AS SELECT DISTINCT tenant, unique_id, "
                "leg_branch, CAST(start_local AS DATE) AS day FROM calls WHERE batch_id = ?", [batch_id])
    return _rate(con, scoped=True, bound_old=False)


def rate_all(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rate every call; only the rows whose values change are rewritten."""
    return _rate(con, scoped=False)


def _keep_choice(con: duckdb.DuckDBPyConnection, *, every_key: bool) -> None:
    """Store the choice just computed for the keys of _bill_kc (every key: the table)."""
    if every_key:
        con.execute("DELETE FROM rating_choices")
    else:
        con.execute("DELETE FROM rating_choices c USING _bill_kc k WHERE c.kid = k.kid")
    con.execute("INSERT INTO rating_choices SELECT kid, d0, d1, tariff_id FROM _bill_choice "
                "ORDER BY kid, d0")


# The days of a key whose tariff moves with a change (or whose tariff is a changed one): the
# bounds of its old and new segments cut its days into pieces with one old and one new choice.
_MOVED = """
CREATE OR REPLACE TEMP TABLE _bill_moved AS
WITH old AS (
  SELECT c.* FROM rating_choices c SEMI JOIN _bill_kc k ON k.kid = c.kid
), b AS (
  SELECT kid, d0 AS d FROM _bill_choice UNION SELECT kid, d1 FROM _bill_choice
  UNION SELECT kid, d0 FROM old UNION SELECT kid, d1 FROM old
), e AS (
  SELECT kid, d AS x0, lead(d) OVER (PARTITION BY kid ORDER BY d) AS x1 FROM b
)
SELECT e.kid, e.x0, e.x1 FROM e
LEFT JOIN _bill_choice n ON n.kid = e.kid AND n.d0 <= e.x0 AND e.x0 < n.d1
LEFT JOIN old o ON o.kid = e.kid AND o.d0 <= e.x0 AND e.x0 < o.d1
WHERE e.x1 IS NOT NULL
  AND (n.tariff_id IS DISTINCT FROM o.tariff_id OR n.tariff_id IN ({ids}))"""


def rerate_tariffs(con: duckdb.DuckDBPyConnection, tariff_ids: list[int]) -> dict[str, int]:
    """Re-rate what a change of these tariffs (added, edited or deleted) can affect. The keys
    concerned are those the changed tariffs match now (direction, tenant, company, gateway,
    prefix, countries) and those they were chosen for; their choice is computed again and
    compared with the stored one, and only the calls of the days whose tariff moves, or whose
    tariff is a changed one, are re-rated (plus the calls the changed tariffs rated before,
    and the later calls of their free-allowance pools). Every other key keeps its choice."""
    if not tariff_ids:
        return {"run_id": 0, "calls": 0, "written": 0, "deleted": 0}
    rating_keys.ensure(con)
    ids = ", ".join(str(int(i)) for i in tariff_ids)
    _prepare(con)
    _build_tariffs(con)
    # the keys the changed tariffs may match (every condition but the company, which needs
    # the directory) or were chosen for; the company is looked up for those only
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _bill_kc AS
SELECT k.kid, k.tenant, k.dir, k.gw, k.line, k.num, coalesce(op.organization, '') AS company,
  org.name AS company_name, op.extension AS extension
FROM rating_keys k SEMI JOIN (
  SELECT k.kid FROM rating_keys k CROSS JOIN _bill_cfg g JOIN _bill_t t ON {_MATCH_BUT_COMPANY}
  WHERE t.id IN ({ids})
  UNION SELECT kid FROM rating_choices WHERE tariff_id IN ({ids})) s ON s.kid = k.kid
{key_company_joins("k")}""")  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _bill_kc AS
SELECT k.* FROM _bill_kc k SEMI JOIN (
  SELECT k.kid FROM _bill_kc k CROSS JOIN _bill_cfg g JOIN _bill_t t ON {_MATCH}
  WHERE t.id IN ({ids})
  UNION SELECT kid FROM rating_choices WHERE tariff_id IN ({ids})) s ON s.kid = k.kid""")  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute(_CHOICE)
    con.execute(_MOVED.format(ids=ids))
    _keep_choice(con, every_key=False)
    # The scope: the calls of the moved days, read from rating_calls once as the calls to rate,
    # and the calls the changed tariffs rated that they miss (_bill_extra, normally none: a
    # call whose key's choice changed since its rating, or no longer ratable).
    con.execute("""CREATE OR REPLACE TEMP TABLE _bill_in_s AS
SELECT rc.* FROM rating_calls rc
JOIN _bill_moved m ON m.kid = rc.kid AND rc.day >= m.x0 AND rc.day < m.x1""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _bill_extra AS
SELECT cc.tenant, cc.unique_id, cc.leg_branch, cc.day FROM call_costs cc
ANTI JOIN _bill_in_s i ON {_on("i", "cc")}
WHERE cc.method = 'tariff' AND cc.tariff_id IN ({ids})""")  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute("CREATE OR REPLACE TEMP TABLE _bill_scope AS SELECT tenant, unique_id, leg_branch, "
                "day FROM _bill_in_s UNION ALL SELECT * FROM _bill_extra")
    extra = con.execute("SELECT count(*) FROM _bill_extra").fetchone()[0]
    if extra:
        con.execute(f"INSERT INTO _bill_in_s SELECT rc.* FROM rating_calls rc "  # noqa: S608 -- names and SQL fragments from code; values bound
                    f"SEMI JOIN _bill_extra e ON {_on('e', 'rc')}")
    rows = con.execute(f"SELECT count(*) FROM call_costs WHERE method = 'tariff' "  # noqa: S608 -- names and SQL fragments from code; values bound
                       f"AND tariff_id IN ({ids})").fetchone()[0]
    calls = con.execute("SELECT count(*) FROM _bill_scope").fetchone()[0]
    for t in ("_bill_moved", "_bill_extra"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    # The scope holds every stored row of the changed tariffs (whole); when it has as many
    # calls as they have rows, each of its calls has its stored tariff row among them (a call
    # has one), and when they have any, it has stored rows. Without extra calls, its keys are
    # among the ones whose choice was just computed and stored.
    return _rate(con, scoped=True, known=_Known(
        calls_read=True, keys_ready=not extra, whole=tuple(tariff_ids),
        old_in_whole=rows == calls, stored=True if rows else None, tariffs_only=True))


_REPRICE = """
UPDATE call_costs AS cc SET charged_s = CAST({charged} AS INTEGER), cost = {cost},
  cost_nofree = {nofree}, run_id = ?
FROM _bill_t t
WHERE cc.method = 'tariff' AND cc.tariff_id IN ({ids}) AND t.id = cc.tariff_id
  AND t.dir = cc.direction
  AND (cc.charged_s <> {charged} OR cc.cost <> {cost} OR cc.cost_nofree <> {nofree})"""


def reprice_tariffs(con: duckdb.DuckDBPyConnection, tariff_ids: list[int]) -> dict[str, int]:
    """Re-price the calls of tariffs whose edit changed only what a call pays (answer charge,
    rates, minimum, initial block, increment), not which calls they rate nor the free
    allowance (tariffs.prices_only): every call keeps its tariff and its free seconds, so its
    row is updated in place from the stored billed and free seconds, with the same formulas
    as a full rating, and only the rows whose values change are written."""
    if not tariff_ids:
        return {"run_id": 0, "calls": 0, "written": 0, "deleted": 0}
    ids = ", ".join(str(int(i)) for i in tariff_ids)
    run_id = con.execute("SELECT nextval('billing_run_seq')").fetchone()[0]
    _build_tariffs(con)
    charged = _charged("cc.billed_s - cc.free_s", "t.blk", "t.inc")
    full = _charged("cc.billed_s", "t.blk", "t.inc")
    written = con.execute(_REPRICE.format(
        charged=charged, cost=_money(_with_minimum(charged)),
        nofree=_money(_with_minimum(full)), ids=ids), [run_id]).fetchone()[0]
    calls = con.execute(f"SELECT count(*) FROM call_costs WHERE method = 'tariff' "  # noqa: S608 -- names and SQL fragments from code; values bound
                        f"AND tariff_id IN ({ids})").fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _bill_t")
    return {"run_id": run_id, "calls": calls, "written": written, "deleted": written}


def rerate_lines(con: duckdb.DuckDBPyConnection, tenant: str, lines: list[str]) -> dict[str, int]:
    """Re-rate what a change of the billing profiles of these outgoing lines can affect: the
    tenant's outgoing calls whose key names one of them as its line, and the calls their
    profiles valued before."""
    if not lines:
        return {"run_id": 0, "calls": 0, "written": 0, "deleted": 0}
    rating_keys.ensure(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _bill_lines AS SELECT unnest(?::TEXT[]) AS line", [lines])
    con.execute("""CREATE OR REPLACE TEMP TABLE _bill_scope AS
SELECT tenant, unique_id, leg_branch, day FROM call_costs
WHERE method = 'profile' AND tenant = ? AND gateway IN (SELECT line FROM _bill_lines)
UNION
SELECT rc.tenant, rc.unique_id, rc.leg_branch, rc.day FROM rating_calls rc
SEMI JOIN (SELECT kid FROM rating_keys WHERE tenant = ? AND dir = 'out'
           AND line IN (SELECT line FROM _bill_lines)) k ON k.kid = rc.kid""", [tenant, tenant])
    con.execute("DROP TABLE _bill_lines")
    return _rate(con, scoped=True)


def rate_unrated(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rate the answered external calls that have no cost row yet (e.g. loaded before 0006)."""
    rating_keys.ensure(con)
    con.execute("""CREATE OR REPLACE TEMP TABLE _bill_scope AS
SELECT rc.tenant, rc.unique_id, rc.leg_branch, rc.day FROM rating_calls rc
WHERE NOT EXISTS (SELECT 1 FROM call_costs cc WHERE cc.tenant = rc.tenant
                  AND cc.unique_id = rc.unique_id AND cc.leg_branch = rc.leg_branch)""")
    return _rate(con, scoped=True)
