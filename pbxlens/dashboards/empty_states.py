"""What an empty report page says: not just "no data", but what to do about it (load the Call
Center CDR, import a tariff, point a webhook at pbxlens, or pick a range that holds calls).

One rule per source a report family reads; the first source that is empty names the step
that fills it.
"""

from __future__ import annotations

from pbxlens.dashboards.i18n import t
from pbxlens.reports import format as fmt

# (report id prefix, table whose emptiness explains an empty page, catalog key of the hint);
# the first matching prefix decides
SOURCES = (
    ("billing.multiservice", "billing_contracts", "hint_no_contract"),
    ("billing.", "call_costs", "hint_no_tariff"),
    ("cc.agent_activity", "agent_events", "hint_no_events"),
    ("cc.", "queue_calls", "hint_no_cc"),
    ("feedback.", "feedback_requests", "hint_no_feedback"),
    ("missed.", "missed_events", "hint_no_missed"),
)


def _empty(cur, table: str) -> bool:
    return cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})").fetchone()[0]  # noqa: S608 -- table names from the constant list above


def result_is_empty(result) -> bool:
    """No table, or no table with a non-zero figure in its totals or rows."""
    for table in result.tables:
        for row in [table.totals, *table.rows]:
            for c in table.columns:
                v = row.get(c.key)
                if v not in (None, 0, "", "0"):
                    return False
    return True


def hint(cur, report_id: str, result, lang: str) -> str | None:
    """The sentence an empty page shows, or None when the page has data."""
    if not result_is_empty(result):
        return None
    if _empty(cur, "calls"):
        return t("hint_no_calls", lang)
    for prefix, table, key in SOURCES:
        if report_id.startswith(prefix):
            if _empty(cur, table):
                return t(key, lang)
            break
    first, last = cur.execute("SELECT min(start_local)::DATE, max(start_local)::DATE "
                              "FROM calls").fetchone()
    return t("hint_range", lang, first=fmt.day_label(first), last=fmt.day_label(last))
