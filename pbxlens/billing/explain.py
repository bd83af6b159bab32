"""Why this cost: the rating of one call, step by step, for finance to defend a bill.

`explain(con, unique_id)` re-derives each ratable leg's cost from the call's rating key, the
tariffs, the billing profiles and the free-allowance pool as stored now, in plain Decimal
arithmetic (one call: no set-based SQL needed), and sets it beside the cost the rating engine
stored. The steps are those of rating.py's docstring:

1. the candidates: every tariff, with the first condition it fails (inactive, no rate for the
   direction, tenant, company, gateway, prefix, countries, validity) or, among those that
   apply, the precedence criterion on which it lost to the winner (company set > tenant set >
   gateway set > longest prefix > countries set > latest valid_from > lowest id, BL-4);
2. the free allowance of the pool (tariff, tenant, company, year): used before the call (the
   stored billed seconds of the pool's earlier calls, in start order, up to the allowance),
   used by it, left after (used before + used + left = the allowance);
3. the billable seconds after the free ones, rounded up to the initial block and increments;
4. answer charge + rate x charged / 60, the rate part rounded once half-up to 5 decimals, and
   at least the tariff's minimum charge when seconds are charged.

A ratable call that no tariff values is *unrated* (method None in the tariff explanation): its
candidates say why each tariff did not apply. Billing profiles (PBX method) are explained the
same way: the line's profile, the rule that won (exact > longest prefix > any, then file
order) and the fees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import duckdb

from pbxlens import PbxlensError
from pbxlens.billing import rating, rating_keys
from pbxlens.config import get_settings

CENT5 = Decimal("0.00001")
# Why a tariff did not apply, in the order the conditions are checked.
FAILS = ("inactive", "no_rate", "tenant", "company", "gateway", "prefix", "countries",
         "validity")
# The precedence criteria, in order (BL-4): the one a losing candidate lost on.
CRITERIA = ("company", "tenant", "gateway", "prefix", "countries", "valid_from", "id")


class ExplainError(PbxlensError):
    status = 404


@dataclass
class Candidate:
    tariff_id: int
    description: str
    prefix: str | None
    valid_from: date
    valid_to: date | None
    outcome: str          # chosen | applies (lost on `criterion`) | one of FAILS
    criterion: str | None = None
    rate: Decimal | None = None

    @property
    def relevant(self) -> bool:
        """Worth showing: its prefix fits the number (or it has none)."""
        return self.outcome != "prefix"


@dataclass
class FreeMinutes:
    year: int
    allowance_s: int
    used_before_s: int    # by the pool's earlier calls, at most the allowance
    used_s: int           # by this call
    left_s: int           # after this call


@dataclass
class TariffStep:
    tariff_id: int
    description: str
    prefix: str | None
    valid_from: date
    valid_to: date | None
    rate: Decimal              # EUR per minute for the call's direction
    answer_charge: Decimal
    initial_block_s: int
    increment_s: int
    free: FreeMinutes | None
    billable_s: int            # billed - free
    charged_s: int             # after the initial block and increments
    rate_exact: Decimal        # rate x charged / 60, unrounded
    rate_part: Decimal         # rounded half-up to 5 decimals
    rounding: Decimal          # rate_part - rate_exact
    minimum: Decimal | None    # the tariff's minimum charge
    minimum_applied: bool      # the cost is the minimum (answer + rate part was below it)
    cost: Decimal
    charged_nofree_s: int
    cost_nofree: Decimal


@dataclass
class ProfileStep:
    profile_id: int
    profile: str
    line: str
    rule_id: int
    rule_kind: str             # exact | prefix | any
    selection: str | None
    rules_considered: int
    connection_fee: Decimal
    connection_s: int
    next_fee: Decimal | None
    next_s: int
    units: int                 # next units charged after the connection
    cost: Decimal


@dataclass
class Explanation:
    tenant: str
    unique_id: str
    leg_branch: int
    direction: str             # in | out
    start: datetime            # PBX local
    day: date
    number: str | None         # national dialled form the tariffs match on
    gateway: str | None        # in: gateway; out: outbound configuration
    line: str | None
    company: str
    company_name: str | None
    extension: str | None
    billed_s: int              # ceil(bill_secs)
    method: str | None         # tariff | profile | None (unrated)
    candidates: list[Candidate] = field(default_factory=list)
    tariff: TariffStep | None = None
    profile: ProfileStep | None = None
    stored_cost: Decimal | None = None
    stored_free_s: int | None = None

    @property
    def cost(self) -> Decimal | None:
        step = self.tariff if self.method == "tariff" else self.profile
        return step.cost if step is not None else None

    @property
    def agrees(self) -> bool:
        """The explanation's result equals the stored cost (no stale rating)."""
        return self.cost == self.stored_cost

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cost"] = self.cost
        d["agrees"] = self.agrees
        d["candidates"] = [asdict(c) for c in self.candidates if c.relevant]
        d["other_prefixes"] = sum(1 for c in self.candidates if not c.relevant)
        return _jsonable(d)


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return v


def charged(x: int, block: int, inc: int) -> int:
    """Seconds billed for x billable seconds (rating._charged, one call)."""
    if x <= 0:
        return 0
    if x <= block:
        return block
    return block + -(-(x - block) // inc) * inc


def _rows(con: duckdb.DuckDBPyConnection, sql: str, args: list | dict) -> list[dict]:
    cur = con.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def day_hint(unique_id: str) -> tuple[date, date] | None:
    """The PBX-local days around the instant an Asterisk unique id starts with (`<epoch>.<n>`:
    the channel's creation, the call's start): a lookup by id then reads only those days'
    row groups (rating_calls and call_costs are stored in day order) instead of every row."""
    head = unique_id.split(".", 1)[0]
    if not (head.isdigit() and 9 <= len(head) <= 10):
        return None
    day = datetime.fromtimestamp(int(head), ZoneInfo(get_settings().timezone)).date()
    return day - timedelta(days=1), day + timedelta(days=1)


# A call's ratable legs (rating_calls read only where the id's days lie when they are
# known), then each leg's rating key with its company, by key id: two small lookups cost less
# than one join planned around the scan. The local start shown is the instant in the PBX
# timezone (what the loader stores when the CDR has no local time): reading the wide calls
# table for it cost more than the rest of the explanation in a fresh process.
_LEGS = """
SELECT tenant, unique_id, leg_branch, kid, start_ts,
  CAST(timezone(current_setting('TimeZone'), start_ts) AS TIMESTAMP) AS start_local, day, yr, s
FROM rating_calls
WHERE unique_id = $uid AND (CAST($tenant AS TEXT) IS NULL OR tenant = $tenant) {days}
ORDER BY tenant, leg_branch"""
_KEY = """
SELECT k.dir, k.gw, k.line, k.num, coalesce(op.organization, '') AS company,
  org.name AS company_name, op.extension AS extension
FROM rating_keys k
{joins}
WHERE k.kid = ?"""


def _legs(con, unique_id: str, tenant: str | None) -> list[dict]:
    args = {"uid": unique_id, "tenant": tenant}
    hint = day_hint(unique_id)
    rows = []
    if hint is not None:  # first the days the id names, then (an id of another form) all
        rows = _rows(con, _LEGS.format(days="AND day BETWEEN $lo AND $hi"),
                     {**args, "lo": hint[0], "hi": hint[1]})
    if not rows:
        rows = _rows(con, _LEGS.format(days=""), args)
    key = _KEY.format(joins=rating.key_company_joins("k"))
    for r in rows:
        r.update(_rows(con, key, [r["kid"]])[0])
    return rows


# Every tariff with its calling codes, in one statement (a query costs about a millisecond
# here whatever it reads, and an explanation is a handful of them).
_TARIFFS = """
SELECT t.*, c.ccs FROM billing_tariffs t
LEFT JOIN (SELECT tariff_id, list(calling_code ORDER BY calling_code) AS ccs
           FROM billing_tariff_countries GROUP BY tariff_id) c ON c.tariff_id = t.id
ORDER BY t.id"""


def _tariffs(con) -> list[dict]:
    """Every tariff in id order with its calling codes (None: no country list)."""
    rows = _rows(con, _TARIFFS, [])
    for r in rows:
        r["prefix"] = r["prefix"] or None
    return rows


def _fails(t: dict, leg: dict, home: str) -> tuple[str | None, Decimal | None]:
    """The first condition tariff t fails for the leg (None: it applies), and its rate."""
    rate = t["rate_in"] if leg["dir"] == "in" else t["rate_out"]
    gw = t["inbound_gateway"] if leg["dir"] == "in" else t["outbound_config"]
    num = leg["num"] or ""
    if not t["active"]:
        return "inactive", rate
    if rate is None:
        return "no_rate", rate
    if t["tenant"] is not None and t["tenant"] != leg["tenant"]:
        return "tenant", rate
    if t["company"] is not None and t["company"] not in (leg["company"], leg["company_name"]):
        return "company", rate
    if gw is not None and gw != leg["gw"]:
        return "gateway", rate
    if t["prefix"] is not None and not num.startswith(t["prefix"]):
        return "prefix", rate
    if t["ccs"] is not None and not any(
            num.startswith("00" + cc) or (cc == home and not num.startswith("00"))
            for cc in t["ccs"]):
        return "countries", rate
    if t["valid_from"] > leg["day"] or (t["valid_to"] is not None and t["valid_to"] < leg["day"]):
        return "validity", rate
    return None, rate


def _rank(t: dict, leg: dict) -> tuple:
    gw = t["inbound_gateway"] if leg["dir"] == "in" else t["outbound_config"]
    return (t["company"] is None, t["tenant"] is None, gw is None, -len(t["prefix"] or ""),
            t["ccs"] is None, -t["valid_from"].toordinal(), t["id"])


def candidates(leg: dict, tariffs: list[dict], home: str) -> list[Candidate]:
    """Every tariff with its outcome for the leg; the chosen one first, then those that apply
    in precedence order, then the others in id order."""
    out: list[tuple[tuple, Candidate]] = []
    applying: list[tuple[tuple, Candidate]] = []
    for t in tariffs:
        fail, rate = _fails(t, leg, home)
        c = Candidate(t["id"], t["description"], t["prefix"], t["valid_from"], t["valid_to"],
                      fail or "applies", rate=rate)
        (out if fail else applying).append(((1, t["id"]), c) if fail else (_rank(t, leg), c))
    applying.sort(key=lambda x: x[0])
    if applying:
        best = applying[0][0]
        applying[0][1].outcome = "chosen"
        for rank, c in applying[1:]:
            c.criterion = next(name for name, a, b in zip(CRITERIA, rank, best, strict=True)
                               if a != b)
    return [c for _, c in applying] + [c for _, c in out]


# The pool's calls before the leg: on the days before its day ({days} = "day < ?"), and on
# its day ("day = ?") before it in start order (ties by unique_id, leg_branch).
_POOL = """
FROM call_costs
WHERE method = 'tariff' AND tariff_id = ? AND tenant = ? AND company = ? AND yr = ?
  AND day >= make_date(CAST(? AS INTEGER), 1, 1) AND {days}"""
_SAME_DAY = """ AND (start_ts < ? OR (start_ts = ?
  AND (unique_id < ? OR (unique_id = ? AND leg_branch < ?))))"""


def _used_before(con, tariff_id: int, leg: dict, allowance: int) -> int:
    """The pool's free seconds used before the leg (at most the allowance). A pool is spent
    once an earlier call of it was not wholly free (its stored free_s < billed_s: that call
    reached the allowance). Looking for one such call stops at the first, and on the earlier
    days reads no start/id column; summing the earlier calls reads the pool's whole year so far
    (about 0.2 s cold late in a year on a 10M-call store), so it runs only when none is found."""
    pool = [tariff_id, leg["tenant"], leg["company"], leg["yr"], leg["yr"], leg["day"]]
    same = [leg["start_ts"], leg["start_ts"], leg["unique_id"], leg["unique_id"],
            leg["leg_branch"]]
    spent = " AND free_s < billed_s LIMIT 1"
    if con.execute("SELECT 1" + _POOL.format(days="day < ?") + spent, pool).fetchone() or \
            con.execute("SELECT 1" + _POOL.format(days="day = ?") + _SAME_DAY + spent,
                        pool + same).fetchone():
        return allowance
    used = con.execute("SELECT coalesce(sum(billed_s), 0) FROM (SELECT billed_s"  # noqa: S608 -- names and SQL fragments from code; values bound
                       + _POOL.format(days="day < ?") + " UNION ALL SELECT billed_s"
                       + _POOL.format(days="day = ?") + _SAME_DAY + ")",
                       pool + pool + same).fetchone()[0]
    return min(allowance, int(used))


def _money(rate: Decimal, secs: int) -> tuple[Decimal, Decimal]:
    exact = rate * secs / Decimal(60)
    return exact, exact.quantize(CENT5, rounding=ROUND_HALF_UP)


def tariff_step(con, t: dict, leg: dict) -> TariffStep:
    rate = t["rate_in"] if leg["dir"] == "in" else t["rate_out"]
    answer = t["answer_charge"] or Decimal(0)
    block, inc, billed = int(t["initial_block_s"]), int(t["increment_s"]), int(leg["s"])
    free = None
    free_s = 0
    allowance = int(t["free_minutes"] or 0) * 60
    if allowance > 0:
        before = _used_before(con, t["id"], leg, allowance)
        free_s = min(billed, max(0, allowance - before))
        free = FreeMinutes(int(leg["yr"]), allowance, before, free_s,
                           max(0, allowance - before - free_s))
    ch = charged(billed - free_s, block, inc)
    exact, part = _money(rate, ch)
    ch_full = charged(billed, block, inc)
    _, part_full = _money(rate, ch_full)
    minimum = t.get("min_charge")

    def floor(cost: Decimal, secs: int) -> Decimal:
        return max(cost, minimum) if minimum is not None and secs > 0 else cost

    cost = floor(answer + part, ch)
    return TariffStep(t["id"], t["description"], t["prefix"], t["valid_from"], t["valid_to"],
                      rate, answer, block, inc, free, billed - free_s, ch, exact, part,
                      part - exact, minimum, cost != answer + part, cost.quantize(CENT5),
                      ch_full, floor(answer + part_full, ch_full).quantize(CENT5))


def profile_step(con, leg: dict) -> ProfileStep | None:
    """The PBX billing profile of an outgoing leg's line and the rule that values it (PB-1,
    PB-3); None when the line has no enabled profile or no rule matches / charges."""
    if leg["dir"] != "out":
        return None
    rules = _rows(con, """
SELECT p.id AS profile_id, p.name, r.* FROM billing_profile_lines pl
JOIN billing_profiles p ON p.id = pl.profile_id AND p.enabled
JOIN billing_profile_rules r ON r.profile_id = p.id
WHERE pl.tenant = ? AND pl.line = ?""", [leg["tenant"], leg["line"]])
    num = leg["num"] or ""

    def score(r: dict) -> int | None:
        if r["kind"] == "exact":
            return 1000000 * 100000 - r["pos"] if r["selection"] == num else None
        if r["kind"] == "prefix":
            sel = r["selection"]
            fits = sel is not None and num.startswith(sel)
            return (1000 + len(sel)) * 100000 - r["pos"] if fits else None
        return -r["pos"]

    fits = [(score(r), r) for r in rules if score(r) is not None]
    if not fits:
        return None
    r = max(fits, key=lambda x: x[0])[1]
    if r["connection_fee"] is None and r["next_fee"] is None:
        return None
    s, cs, ns = int(leg["s"]), int(r["connection_s"] or 0), int(r["next_s"] or 0)
    cf = r["connection_fee"] or Decimal(0)
    units = -(-(s - cs) // ns) if s > cs and ns > 0 and r["next_fee"] is not None else 0
    cost = (cf + (r["next_fee"] or Decimal(0)) * units).quantize(CENT5)
    return ProfileStep(r["profile_id"], r["name"], leg["line"], r["id"], r["kind"],
                       r["selection"], len(fits), cf, cs, r["next_fee"], ns, units, cost)


def explain(con: duckdb.DuckDBPyConnection, unique_id: str, *, tenant: str | None = None,
            method: str = "tariff") -> list[Explanation]:
    """The explanation of every ratable leg of call `unique_id` (of `tenant` when given) under
    `method` (tariff: Nexus tariffs; profile: PBX billing profiles). Raises ExplainError when
    the call is unknown or not ratable (not answered, internal, or 0 billed seconds)."""
    if method not in ("tariff", "profile"):
        raise PbxlensError(f"method: tariff or profile, got {method!r}")
    def known() -> int:
        return con.execute("SELECT count(*) FROM calls WHERE unique_id = ? AND (CAST(? AS TEXT) "
                           "IS NULL OR tenant = ?)", [unique_id, tenant, tenant]).fetchone()[0]

    if not rating_keys.current(con):  # explaining reads only: it never rebuilds the keys
        raise ExplainError("the rating keys are missing or out of date: run `pbxlens billing "
                           "rate --all` first" if known() else f"call {unique_id}: no such call")
    legs = _legs(con, unique_id, tenant)
    if not legs:
        raise ExplainError(f"call {unique_id}: " + (
            "not ratable (only answered incoming/outgoing calls with billed seconds are rated)"
            if known() else "no such call"))
    home = rating_keys.settings()[1]
    tariffs = _tariffs(con) if method == "tariff" else []
    out = []
    for leg in legs:
        stored = con.execute(  # its exact day: the zone maps of call_costs narrow the read
            "SELECT cost, free_s FROM call_costs WHERE tenant = ? AND unique_id = ? AND "
            "leg_branch = ? AND method = ? AND day = ?",
            [leg["tenant"], leg["unique_id"], leg["leg_branch"], method, leg["day"]]).fetchone()
        e = Explanation(leg["tenant"], leg["unique_id"], int(leg["leg_branch"]), leg["dir"],
                        leg["start_local"], leg["day"], leg["num"], leg["gw"], leg["line"],
                        leg["company"], leg["company_name"], leg["extension"], int(leg["s"]),
                        None, stored_cost=stored[0] if stored else None,
                        stored_free_s=stored[1] if stored else None)
        if method == "tariff":
            e.candidates = candidates(leg, tariffs, home)
            if e.candidates and e.candidates[0].outcome == "chosen":
                t = next(t for t in tariffs if t["id"] == e.candidates[0].tariff_id)
                e.tariff = tariff_step(con, t, leg)
                e.method = "tariff"
        else:
            e.profile = profile_step(con, leg)
            e.method = "profile" if e.profile else None
        out.append(e)
    return out
