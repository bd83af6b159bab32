"""Real Chromium: log in, open a report, see the grid and its totals row, change a filter,
download the XLSX."""

from __future__ import annotations

import time

import openpyxl
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.helpers import logout
from tests.dashboards.live import DAY1, DAY2, PASSWORD


def _wait(driver, seconds=30):
    return WebDriverWait(driver, seconds)


def _login(driver, base, username):
    logout(driver, base)
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-btn").click()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".pbx-topbar")))


def _rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, ".ag-center-cols-container .ag-row")


def test_login_report_filter_and_export(live, browser, downloads):
    d, base = browser, live.base_url
    _login(d, base, "sup")
    d.get(f"{base}/reports/cdr.queues?from={DAY1}&to={DAY2}")
    _wait(d).until(lambda drv: len(_rows(drv)) >= 3)
    n_all = len(_rows(d))
    pinned = d.find_elements(By.CSS_SELECTOR, ".ag-floating-bottom .ag-row")
    assert pinned and "Totali" in pinned[0].text
    # a mini pie (answered vs unanswered) before each queue name, none on the totals row
    pies = d.find_elements(By.CSS_SELECTOR, ".ag-pinned-left-cols-container .pbx-mini-pie")
    assert len(pies) == n_all
    tip = pies[0].find_element(By.XPATH, "..").get_attribute("title")
    assert tip and " / " in tip and "%" in tip
    assert not d.find_elements(By.CSS_SELECTOR, ".ag-floating-bottom .pbx-mini-pie")
    # change a filter: pick one queue in the "Coda" multi-select and search again
    labels = d.find_elements(By.CSS_SELECTOR, ".ag-pinned-left-cols-container .ag-row")
    first_queue = labels[0].text.strip()
    dd = d.find_element(By.CSS_SELECTOR, "#rp-field-queue input")
    dd.send_keys(first_queue)
    dd.send_keys(Keys.ENTER)
    d.find_element(By.ID, "rp-apply").click()
    _wait(d).until(lambda drv: len(_rows(drv)) == 1)
    assert n_all > 1
    assert "Coda = " in d.find_element(By.ID, "rp-applied").text
    # server-side XLSX through dcc.Download
    for old in downloads.glob("*"):
        old.unlink()
    d.find_element(By.CSS_SELECTOR, ".pbx-export").click()
    deadline = time.time() + 30
    files = []
    while time.time() < deadline:
        files = [p for p in downloads.glob("*.xlsx")]
        if files:
            break
        time.sleep(0.3)
    assert files, "no XLSX downloaded"
    ws = openpyxl.load_workbook(files[0]).worksheets[0]
    labels = [r[0] for r in ws.iter_rows(values_only=True)]
    assert first_queue in labels and "Totali" in labels


def test_operator_sees_no_reports_and_admin_sees_users(live, browser):
    d, base = browser, live.base_url
    _login(d, base, "op")
    d.get(base + "/")  # no report: the home sends the operator to the callbacks
    _wait(d).until(lambda drv: drv.current_url.startswith(base + "/missed"))
    d.get(base + "/reports/cdr.queues")
    _wait(d).until(EC.presence_of_element_located((By.ID, "pbx-forbidden")))
    _login(d, base, "admin")
    d.get(base + "/admin/users")
    _wait(d).until(lambda drv: "supfull" in drv.find_element(By.ID, "au-grid").text)


def test_later_tables_follow_the_first_and_drill_like_it(live, browser, monkeypatch):
    """A page renders its first tables at once and the others right after: every table shows,
    in the report's order, and a count cell of a later table lists its calls."""
    import httpx

    from pbxlens.dashboards.components import report_view

    monkeypatch.setattr(report_view, "EAGER_ROWS", 1)  # the first table, then the others
    d, base = browser, live.base_url
    api = httpx.get(f"{base}/api/reports/cdr.queue_operators?from={DAY1}&to={DAY2}&lang=it",
                    headers={"Authorization": f"Bearer {live.tokens['sup']}"}, timeout=60).json()
    n = len(api["tables"])
    assert n >= 2
    _login(d, base, "sup")
    d.get(f"{base}/reports/cdr.queue_operators?from={DAY1}&to={DAY2}")
    cards = "#rp-content .pbx-table-card .ag-center-cols-container .ag-row[row-index='0']"
    _wait(d).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, cards)) == n)
    titles = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#rp-content .pbx-table-title")]
    assert titles == [t["title"] for t in api["tables"]]
    last = d.find_elements(By.CSS_SELECTOR, "#rp-content .pbx-table-card")[-1]
    cell = last.find_element(By.CSS_SELECTOR, ".ag-center-cols-container .ag-row .pbx-drill")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
    cell.click()
    _wait(d).until(lambda drv: drv.find_element(By.ID, "rp-drill").is_displayed())
    assert d.find_element(By.ID, "rp-drill-title").text
