"""The number normalizer N() of rule R10 (nexus_modules.md A.9, errata "Number normalization"),
as the missed-call module uses it: the product's one rule (`pbxlens.models.phone`), with ''
instead of None for "nothing callable" (anonymous, letters only), since request keys are
strings."""

from __future__ import annotations

from pbxlens.models import phone


def clean_sql(expr: str) -> str:
    """SQL: the digits (and '+') of expr; compute it once per row, then `national_sql` on it."""
    return f"regexp_replace(coalesce({expr}, ''), '[^0-9+]', '', 'g')"


def national_sql(expr: str, outbound: bool, *, cleaned: bool = False, bound: bool = False) -> str:
    """SQL of N(expr). `outbound`: a number the PBX dialled (strip the seizure code).
    `cleaned`: expr is already `clean_sql(...)`, computed once per row by the caller (the
    rule's own cleaning would leave it unchanged, at the cost of a regexp per use).
    `bound`: each step once per row (DuckDB lambdas, `phone.national_sql`): the writer's
    reconciliation over a batch's calls."""
    sql = phone.national_sql(expr, 'true' if outbound else 'false', cleaned=cleaned, bound=bound)
    return f"coalesce({sql}, '')"


def national(raw: str | None, outbound: bool = False) -> str:
    """N(raw) in Python; '' when nothing callable is left (anonymous, letters only)."""
    return phone.national(raw, outbound=outbound) or ""
