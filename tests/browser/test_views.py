"""Real Chromium: the report page's filters and period live in its URL and survive a reload, both
dates can be typed (the focus stays where one types), a saved view appears on the home page and
opens its report with its filters."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.helpers import login, rows, wait
from tests.dashboards.live import DAY1, DAY2


def _query(driver) -> dict:
    return parse_qs(urlsplit(driver.current_url).query)


def _applied(driver) -> str:
    return driver.find_element(By.ID, "rp-applied").text


def _type_date(driver, cid: str, text: str) -> None:
    box = driver.find_element(By.CSS_SELECTOR, f"#{cid} input")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    for ch in text:  # one key at a time, as a person types
        box.send_keys(ch)
        assert driver.switch_to.active_element == box, f"the focus left {cid} after {ch!r}"
    assert box.get_attribute("value") == text
    box.send_keys(Keys.ESCAPE)


def test_filters_survive_a_reload_and_dates_can_be_typed(live, browser):
    d, base = browser, live.base_url
    login(d, base, "sup")
    d.get(f"{base}/reports/cdr.queues?from={DAY1}&to={DAY2}")
    wait(d).until(lambda drv: len(rows(drv)) >= 3)
    first_queue = d.find_elements(By.CSS_SELECTOR,
                                  ".ag-pinned-left-cols-container .ag-row")[0].text.strip()
    dd = d.find_element(By.CSS_SELECTOR, "#rp-field-queue input")
    dd.send_keys(first_queue)
    dd.send_keys(Keys.ENTER)
    # both dates typed, the focus never jumping to the other field
    _type_date(d, "rp-from", "12/05/2026")
    _type_date(d, "rp-to", "12/05/2026")
    d.find_element(By.ID, "rp-apply").click()
    wait(d).until(lambda drv: len(rows(drv)) == 1 and "12/05/2026 – 12/05/2026" in _applied(drv))
    q = _query(d)
    assert q["from"] == [DAY2] and q["to"] == [DAY2] and q["filter"][0].startswith("queue=")
    applied = _applied(d)
    assert f"Coda = {first_queue}" in applied  # the queue's name, not its id
    # reload: the same report, the same controls
    d.refresh()
    wait(d).until(lambda drv: len(rows(drv)) == 1 and drv.find_elements(By.ID, "rp-applied"))
    assert _applied(d) == applied
    assert d.find_element(By.CSS_SELECTOR, "#rp-from input").get_attribute("value") == "12/05/2026"
    chosen = d.find_element(By.CSS_SELECTOR, "#rp-field-queue").text
    assert first_queue in chosen


def test_a_period_and_a_saved_view_open_from_the_home_page(live, browser):
    d, base = browser, live.base_url
    login(d, base, "supfull")
    d.get(f"{base}/reports/cdr.queues?from={DAY1}&to={DAY2}")
    wait(d).until(lambda drv: len(rows(drv)) >= 3)
    period = d.find_element(By.CSS_SELECTOR, "#rp-period input")
    period.send_keys("Mese scorso")
    period.send_keys(Keys.ENTER)
    wait(d).until(lambda drv: drv.find_element(By.CSS_SELECTOR, "#rp-from input")
                  .get_attribute("value").startswith("01/"))
    d.find_element(By.ID, "rp-apply").click()
    wait(d).until(lambda drv: _query(drv).get("period") == ["last_month"])
    # back to the fixed days, then save the view
    d.get(f"{base}/reports/cdr.queues?from={DAY1}&to={DAY2}&filter=empty_queue=yes")
    wait(d).until(lambda drv: len(rows(drv)) >= 3)
    d.find_element(By.ID, "rp-sv-btn").click()
    d.find_element(By.ID, "rp-sv-name").send_keys("Code con coda vuota")
    d.find_element(By.ID, "rp-sv-save").click()
    wait(d).until(lambda drv: "Vista salvata" in drv.find_element(By.ID, "rp-sv-msg").text)
    d.get(base + "/")
    card = wait(d).until(lambda drv: next(
        (c for c in drv.find_elements(By.CSS_SELECTOR, "#home-views a")
         if "Code con coda vuota" in c.text), None))
    card.click()
    wait(d).until(lambda drv: "/reports/cdr.queues" in drv.current_url and len(rows(drv)) >= 3)
    q = _query(d)
    assert q == {"from": [DAY1], "to": [DAY2], "filter": ["empty_queue=yes"]}
    assert "Mostra chiamate in coda vuota = Sì" in _applied(d)
