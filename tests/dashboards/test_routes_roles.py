"""Every HTTP route × every role: the status each one gets (a table a reader can check).
A route missing from the table fails the completeness test, so a new route needs a row."""

from __future__ import annotations

import pytest

from tests.dashboards.live import DAY1, DAY2, live_server

ROLES = ("anonymous", "op", "fin", "sup", "admin")
RANGE = f"?from={DAY1}&to={DAY2}"
# (method, path, rule it exercises): statuses for anonymous, operator, finance, supervisor, admin
TABLE = [
    ("GET", "/api/reports", "/api/reports", (401, 200, 200, 200, 200)),
    ("GET", f"/api/reports/cdr.queues{RANGE}", "/api/reports/<path:report_id>",
     (401, 403, 403, 200, 200)),
    ("GET", f"/api/reports/billing.dashboard{RANGE}", "/api/reports/<path:report_id>",
     (401, 403, 200, 403, 200)),
    ("GET", "/api/missed", "/api/missed", (401, 200, 403, 200, 200)),
    ("POST", "/api/missed/flush", "/api/missed/flush", (401, 403, 403, 400, 400)),
    ("POST", "/api/missed/unknown/book", "/api/missed/<token>/book", (401, 404, 403, 404, 404)),
    ("POST", "/api/missed/unknown/cancel", "/api/missed/<token>/cancel",
     (401, 404, 403, 404, 404)),
    ("POST", "/api/missed/unknown/assign", "/api/missed/<token>/assign",
     (401, 403, 403, 404, 404)),
    ("POST", "/api/missed/unknown/dial", "/api/missed/<token>/dial", (401, 404, 403, 404, 404)),
    ("GET", "/api/views", "/api/views", (401, 200, 200, 200, 200)),
    ("GET", "/api/jobs", "/api/jobs", (401, 403, 403, 403, 200)),
    ("GET", "/api/jobs/1", "/api/jobs/<int:job_id>", (401, 403, 403, 403, 200)),
    ("GET", "/api/events/stats", "/api/events/stats", (401, 403, 403, 200, 200)),
    ("POST", "/api/admin/backup", "/api/admin/backup", (401, 403, 403, 403, 400)),
    ("POST", "/api/local/cli", "/api/local/cli", (403, 403, 403, 403, 403)),
    ("GET", "/admin/upload", "/admin/upload", (302, 403, 403, 403, 200)),
    ("POST", "/admin/upload", "/admin/upload", (401, 403, 403, 403, 200)),
    ("GET", "/tickets/999999/attach", "/tickets/<int:ticket_id>/attach",  # no such ticket
     (302, 403, 403, 403, 403)),
    ("GET", "/tickets/attachment/1", "/tickets/attachment/<int:attachment_id>",
     (302, 404, 404, 404, 404)),
    ("GET", "/exports/1/token", "/exports/<int:export_id>/<token>", (302, 404, 404, 404, 404)),
    ("GET", "/views/1", "/views/<int:view_id>", (302, 404, 404, 404, 404)),
    ("GET", "/api/live", "/api/live", (401, 403, 403, 200, 200)),
    ("GET", "/api/live/stream", "/api/live/stream", (401, 403, 403, 200, 200)),
    ("GET", "/api/live/kiosks", "/api/live/kiosks", (401, 403, 403, 200, 200)),
    ("DELETE", "/api/live/kiosks/999", "/api/live/kiosks/<int:kiosk_id>",
     (401, 403, 403, 404, 404)),
    ("GET", "/api/alerts", "/api/alerts", (401, 403, 403, 200, 200)),
    ("GET", "/api/alerts/rules", "/api/alerts/rules", (401, 403, 403, 200, 200)),
    ("DELETE", "/api/alerts/rules/999", "/api/alerts/rules/<int:rule_id>",
     (401, 403, 403, 404, 404)),
    ("POST", "/api/alerts/999/ack", "/api/alerts/<int:rule_id>/ack",  # nothing firing: 409
     (401, 403, 403, 409, 409)),
    ("GET", "/api/billing/explain/1.1", "/api/billing/explain/<path:unique_id>",
     (401, 403, 404, 403, 404)),
]
# state changes of the session itself: tested in test_web_hygiene.py (POST with CSRF only)
ELSEWHERE = {"/lang/<code>", "/logout"}


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_as_the_table_says(client_for, role):
    c = client_for(None if role == "anonymous" else role)
    got = {}
    for method, path, _rule, statuses in TABLE:
        r = c.request(method, path, json={} if method == "POST" else None)
        got[(method, path)] = (r.status_code, statuses[ROLES.index(role)])
    wrong = {k: v for k, v in got.items() if v[0] != v[1]}
    assert not wrong, wrong  # (got, want)


def test_the_table_covers_every_route():
    rules = {r.rule for r in live_server().app.server.url_map.iter_rules()
             if r.rule.startswith(("/api/", "/admin/", "/tickets/", "/exports/", "/views/",
                                   "/lang/", "/logout"))}
    assert rules == {rule for _m, _p, rule, _s in TABLE} | ELSEWHERE
