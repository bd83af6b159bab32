"""Missed calls in real Chromium: two operators, two browser sessions, one request. Both see it
in "Numbers to call back"; the first "+" wins, the second gets "already booked by <first>";
the winner sees it in "Booked calls". The supervisor page lists it as booked."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from pbxlens.missed_calls import reconcile, sync
from pbxlens.store import users as auth
from tests.browser.conftest import CHROMIUM, DRIVER
from tests.browser.helpers import login, wait
from tests.dashboards.live import PASSWORD

NUMBER = "3409876543"


@pytest.fixture(scope="module")
def second_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="pbxlens-chrome2-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", f"--user-data-dir={profile}",
              "--window-size=1500,1200"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _setup(live) -> None:
    names = {u.username for u in auth.list_users(live.store)}
    for name, ext in (("opa", "515"), ("opb", "500")):
        if name not in names:
            auth.create_user(live.store, name, PASSWORD, "operator", extension=ext)
    with live.store.writing() as cur:
        cur.execute("BEGIN TRANSACTION")
        cur.execute("INSERT INTO dynamic_routing_requests (unique_id, caller, called, param1, param2,"
                    " received_at, batch_id) VALUES ('1778400000.77', ?, '0461000000', 'Assistenza',"
                    " 'queue', ?, 0) ON CONFLICT DO NOTHING", [NUMBER, datetime.now(UTC)])
        reconcile.for_keys(cur, [("default", "1778400000.77")])
        cur.execute("COMMIT")
        sync.push(cur, live.store.ops)  # as the writer's job does after reconciling


def _open(d, base, user):
    login(d, base, user)
    d.get(base + "/missed")
    box = wait(d).until(EC.presence_of_element_located((By.ID, "mc-f-caller")))
    box.send_keys(NUMBER[:-3])  # without the privacy right: search by what they can see
    d.find_element(By.ID, "mc-search").click()
    wait(d).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#mc-to-call .ag-row")) == 1)


def _click_plus(d):
    """Click "+" of the (only) row, again if the grid re-rendered under the pointer."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(5):
        try:
            d.find_element(By.CSS_SELECTOR, "#mc-to-call .ag-row .ag-cell[col-id='book']").click()
            return
        except StaleElementReferenceException:
            continue
    raise AssertionError("the + cell kept re-rendering")


def test_two_operators_book_the_same_request(live, browser, second_browser, shot):
    _setup(live)
    a, b, base = browser, second_browser, live.base_url
    _open(a, base, "opa")
    _open(b, base, "opb")
    masked = NUMBER[:-3] + "xxx"  # operators without the privacy right
    assert masked in a.find_element(By.ID, "mc-to-call").text
    _click_plus(a)
    wait(a).until(lambda d: "Booked" in d.find_element(By.ID, "mc-msg").text
                  or "Prenotata" in d.find_element(By.ID, "mc-msg").text)
    wait(a).until(lambda d: masked in d.find_element(By.ID, "mc-booked").text)
    shot("missed_operator_a")
    _click_plus(b)  # B's grid still shows the request: B clicks before its refresh
    err = wait(b).until(EC.presence_of_element_located((By.ID, "mc-error")))
    assert any(m in err.text.lower() for m in ("already booked by opa", "già prenotata da opa"))
    wait(b).until(lambda d: masked not in d.find_element(By.ID, "mc-to-call").text)
    assert masked not in b.find_element(By.ID, "mc-booked").text
    shot("missed_operator_b")
    login(b, base, "supfull")
    b.get(base + "/missed/manage")
    grid = wait(b).until(EC.presence_of_element_located((By.ID, "mm-grid")))
    wait(b).until(lambda d: NUMBER in grid.text)
    assert "opa" in grid.text
