"""The app works under its Content-Security-Policy in Chromium: the pages that use plotly, the
grid and clientside callbacks render, and the browser reports no CSP violation."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.browser.crawl import console_errors
from tests.browser.helpers import login, wait
from tests.dashboards.live import DAY1, DAY2


def test_pages_render_under_the_content_security_policy(live, browser):
    d, base = browser, live.base_url
    login(d, base, "supfull")
    d.get_log("browser")  # start with a clean console
    for path, selector in (
        (f"/reports/cdr.queues?from={DAY1}&to={DAY2}", ".ag-row"),
        ("/", ".pbx-topbar"),
        ("/missed", ".pbx-topbar"),
    ):
        d.get(base + path)
        wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))
        errors = console_errors(d)
        assert not [e for e in errors if "Content Security Policy" in e], (path, errors)
    d.execute_script("fetch('/health')")  # same-origin requests stay allowed


def test_the_policy_header(live):
    import httpx

    r = httpx.get(live.base_url + "/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    assert "strict-transport-security" not in r.headers  # https off in tests
