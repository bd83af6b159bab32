"""Number classes and Italian provinces (spec C13), as SQL over sets.

One place decides what a dialled number is: toll-free, mobile, fixed (with its province),
international, or other (premium, shared cost, short codes, invalid). The rules come from
phonenumbers' own metadata for Italy (its national-number patterns for toll-free, mobile and
fixed-line numbers, and its country calling codes), run as RE2 regular expressions inside
DuckDB; the province comes from ONE table, `data/it_area_codes.csv` (every area code that
phonenumbers knows for +39, each mapped to the province of its district town: 107 provinces,
plus 0549 = San Marino, `SM`). Area codes that span several provinces map to the district
town's province (C13's capoluogo rule).

Use: `classify_sql(relation, column)` returns a SELECT that classifies the DISTINCT numbers of
a relation once; reports join it back on the raw number. Nothing loops over calls in Python.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

from phonenumbers import PhoneMetadata

LABELS = {
    "toll_free": ("Toll-free numbers", "Numeri Verdi"),
    "fixed": ("National fixed numbers", "Numeri Nazionali Fissi"),
    "mobile": ("National mobile numbers", "Numeri Nazionali Cellulari"),
    "international": ("International numbers", "Numeri Internazionali"),
    "other": ("Other numbers", "Altri numeri"),
}


@lru_cache(maxsize=1)
def area_codes() -> list[tuple[str, str, str]]:
    """(area code with its leading 0, province code, district town) from the data file."""
    path = resources.files("pbxlens.models").joinpath("data", "it_area_codes.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        return [(r["area_code"], r["province"], r["district"]) for r in csv.DictReader(fh)]


@lru_cache(maxsize=1)
def provinces() -> list[str]:
    return sorted({p for _a, p, _d in area_codes()})


@lru_cache(maxsize=1)
def _patterns() -> dict[str, str]:
    """phonenumbers' Italian national-number patterns (RE2-compatible: plain classes,
    groups and counted repeats)."""
    md = PhoneMetadata.metadata_for_region("IT")
    return {"toll_free": md.toll_free.national_number_pattern,
            "mobile": md.mobile.national_number_pattern,
            "fixed": md.fixed_line.national_number_pattern}


@lru_cache(maxsize=1)
def _lit(s: str) -> str:
    """A SQL string literal of a constant from phonenumbers' metadata or the data file (never
    of user input: values from users are always bound parameters)."""
    return "'" + s.replace("'", "''") + "'"


def area_codes_values() -> str:
    return "VALUES " + ", ".join(f"({_lit(a)}, {_lit(p)})" for a, p, _d in area_codes())


def classify_sql(numbers_sql: str) -> str:
    """A query over `numbers_sql` (a relation with one column `num`, raw numbers, DISTINCT
    already) returning (num, cls, province, national). It takes ONE bound parameter, the
    line-seizure prefix (`line_prefix`, '' for none), stripped first (C13).

    Steps: keep digits and a leading `+`; strip the prefix; `+`/`00` with 39 → national;
    other `+`/`00` numbers → international; then phonenumbers' toll-free, mobile and fixed-line
    patterns; fixed numbers get the province of their longest matching area code."""
    p = _patterns()
    return f"""
WITH pfx AS (SELECT regexp_replace(CAST(? AS TEXT), '[^0-9+]', '', 'g') AS p),
r AS (
  SELECT n.num, regexp_replace(coalesce(n.num, ''), '[^0-9+]', '', 'g') AS d
  FROM ({numbers_sql}) n
), s AS (
  SELECT r.num, CASE WHEN pfx.p <> '' AND starts_with(r.d, pfx.p) AND length(r.d) > length(pfx.p)
                     THEN substr(r.d, length(pfx.p) + 1) ELSE r.d END AS d
  FROM r CROSS JOIN pfx
), i AS (
  SELECT num, CASE WHEN starts_with(d, '+') THEN '00' || substr(d, 2) ELSE d END AS d FROM s
), n AS (
  SELECT num, CASE WHEN starts_with(d, '0039') THEN substr(d, 5) ELSE d END AS nat,
    starts_with(d, '00') AND NOT starts_with(d, '0039') AS intl
  FROM i
), c AS (
  SELECT num, nat, CASE
      WHEN intl THEN 'international'
      WHEN regexp_full_match(nat, {_lit(p['toll_free'])}) THEN 'toll_free'
      WHEN regexp_full_match(nat, {_lit(p['mobile'])}) THEN 'mobile'
      WHEN regexp_full_match(nat, {_lit(p['fixed'])}) THEN 'fixed'
      ELSE 'other' END AS cls
  FROM n
), ac(code, province) AS ({area_codes_values()}),
f AS (
  SELECT num, unnest([left(nat, 2), left(nat, 3), left(nat, 4)]) AS pre FROM c
  WHERE cls = 'fixed'
), pr AS (
  SELECT f.num, arg_max(ac.province, length(ac.code)) AS province
  FROM f JOIN ac ON ac.code = f.pre
  GROUP BY f.num
)
SELECT c.num, c.cls, pr.province, c.nat AS national
FROM c LEFT JOIN pr ON pr.num IS NOT DISTINCT FROM c.num
"""  # noqa: S608 -- patterns from phonenumbers metadata; the prefix is bound


def classify(con, numbers: list[str], line_prefix: str = "") -> dict[str, tuple[str, str | None]]:
    """{number: (class, province)} for a small list (tests, the CLI); the reports use
    `classify_sql` over their own relations."""
    con.execute("CREATE OR REPLACE TEMP TABLE _nums(num TEXT)")
    con.executemany("INSERT INTO _nums VALUES (?)", [[n] for n in numbers])
    rows = con.execute(classify_sql("SELECT DISTINCT num FROM _nums"), [line_prefix]).fetchall()
    return {num: (cls, prov) for num, cls, prov, _nat in rows}
