"""Real Chromium: a report cell's tooltip says its rule; clicking a count cell lists the calls
behind it (as many as the cell says); a call of the list opens its journey; the totals row
drills too."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.browser.helpers import login, rows, wait
from tests.dashboards.live import DAY1, DAY2


def _cell(driver, row_index: int, col: str, pinned: bool = False):
    row = ".ag-floating-bottom .ag-row" if pinned else (
        f".ag-center-cols-container .ag-row[row-index='{row_index}']")
    return driver.find_element(By.CSS_SELECTOR, f".pbx-grid {row} .ag-cell[col-id='{col}']")


def test_click_a_count_cell_to_list_its_calls_then_a_journey(live, browser, shot):
    d, base = browser, live.base_url
    login(d, base, "supfull")
    d.get(f"{base}/reports/cdr.queues?from={DAY1}&to={DAY2}")
    wait(d).until(lambda drv: len(rows(drv)) >= 3)
    headers = d.find_elements(By.CSS_SELECTOR, ".pbx-grid .ag-header-cell[col-id='c0']")
    assert headers  # c0 is TOTAL · quantity, a count
    cell = _cell(d, 0, "c0")
    value = int(cell.text.replace(".", ""))
    assert "pbx-drill" in cell.get_attribute("class")
    cell.click()
    wait(d).until(lambda drv: drv.find_element(By.ID, "rp-drill").is_displayed())
    wait(d).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, "#rp-drill-grid .ag-row"))
    title = d.find_element(By.ID, "rp-drill-title").text
    assert title.endswith(f": {value}") or title.endswith(f": {value:,}".replace(",", "."))
    d.execute_script("document.getElementById('rp-drill').scrollIntoView();")
    shot("drilldown")
    link = d.find_element(By.CSS_SELECTOR, "#rp-drill-grid .ag-row a")
    uid = link.text
    link.click()
    wait(d).until(lambda drv: drv.find_elements(By.ID, "jy-steps"))
    assert uid in d.find_element(By.ID, "jy-title").text
    assert d.find_elements(By.CSS_SELECTOR, "#jy-steps .pbx-step-queue")
    shot("journey")
    # back on the report, the totals row's cell drills into every call of the column
    d.get(f"{base}/reports/cdr.queues?from={DAY1}&to={DAY2}")
    wait(d).until(lambda drv: len(rows(drv)) >= 3)
    total = _cell(d, 0, "c0", pinned=True)
    total_value = int(total.text.replace(".", ""))
    total.click()
    wait(d).until(lambda drv: drv.find_element(By.ID, "rp-drill").is_displayed()
                  and drv.find_element(By.ID, "rp-drill-title").text.replace(".", "")
                  .endswith(f": {total_value}"))
