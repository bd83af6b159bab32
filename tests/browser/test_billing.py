"""Real Chromium, billing flow (issue 8 part 8): a finance user creates a tariff on the tariffs
page, the calls are rated, and the billing report page shows the costs in euro."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.helpers import login, nav_hrefs, rows, wait
from tests.dashboards.live import DAY1, DAY2


def _field(d, key: str):
    # Dash writes a pattern id as sorted JSON; XPath takes it as it is
    return d.find_element(By.XPATH, "//*[@id='{\"key\":\"" + key + "\",\"type\":\"bt-f\"}']")


def test_finance_creates_a_tariff_and_sees_the_costs(live, browser, shot):
    d, base = browser, live.base_url
    login(d, base, "fin")
    assert "/billing" in nav_hrefs(d)
    d.get(base + "/billing/tariffs")
    wait(d).until(lambda drv: drv.find_elements(By.ID, "bt-grid"))
    _field(d, "valid_from").send_keys("2026-13-40")  # invalid: the page says why
    _field(d, "description").send_keys("browser tariff")
    _field(d, "rate_out").send_keys("0,45")
    d.find_element(By.ID, "bt-save").click()
    wait(d).until(lambda drv: "valid_from" in drv.find_element(By.ID, "bt-msg").text)
    box = _field(d, "valid_from")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys("2026-05-01")
    _field(d, "valid_to").send_keys(DAY1)  # the second day stays unrated (billing tests)
    _field(d, "rate_in").send_keys("0.2")
    _field(d, "answer_charge").send_keys("0.01")
    d.find_element(By.ID, "bt-save").click()
    wait(d, 90).until(lambda drv: drv.find_elements(By.ID, "bt-done")
                      or "valid_from" not in drv.find_element(By.ID, "bt-msg").text)
    assert d.find_elements(By.ID, "bt-done"), d.find_element(By.ID, "bt-msg").text
    wait(d).until(lambda drv: "browser tariff" in drv.find_element(By.ID, "bt-grid").text)
    shot("billing_tariffs")
    d.get(f"{base}/reports/billing.by_month?from={DAY1}&to={DAY2}")
    wait(d).until(lambda drv: len(rows(drv)) >= 1)
    pinned = d.find_elements(By.CSS_SELECTOR, ".ag-floating-bottom .ag-row")
    text = " ".join(p.text for p in pinned)  # label (pinned left) and cells (center)
    assert "Totale" in text and "€" in text, text
    shot("billing_by_month")
