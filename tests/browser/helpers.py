"""Small selenium helpers shared by the browser tests."""

from __future__ import annotations

import time
from pathlib import Path

from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.dashboards.live import PASSWORD


class _Wait(WebDriverWait):
    """A look-up that lands while the page is being replaced (a save that navigates) is
    answered "aborted by navigation" by chromedriver, not "no such element": ask again on the
    next poll (CI once failed a ticket's save on it under load)."""

    def until(self, method, message: str = ""):
        def tolerant(driver):
            try:
                return method(driver)
            except WebDriverException as exc:
                if "aborted by navigation" in (exc.msg or ""):
                    return False
                raise

        return super().until(tolerant, message)


def wait(driver, seconds=30):
    return _Wait(driver, seconds, poll_frequency=0.1,
                 ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def logout(driver, base):
    """Start anonymous: forget the session cookie (the nav's logout is a POST form, which
    test_login_and_logout clicks)."""
    driver.get(base + "/login")
    driver.delete_all_cookies()


def login(driver, base, username, password=PASSWORD):
    logout(driver, base)
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-btn").click()
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".pbx-topbar")))


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, ".ag-center-cols-container .ag-row")


def nav_hrefs(driver) -> set[str]:
    links = driver.find_elements(By.CSS_SELECTOR, ".pbx-nav a")
    return {"/" + link.get_attribute("href").split("/", 3)[3] for link in links}


def wait_download(folder: Path, seconds=30) -> Path:
    deadline = time.time() + seconds
    while time.time() < deadline:
        done = [p for p in folder.glob("*.xlsx")]
        if done:
            time.sleep(0.2)
            return done[0]
        time.sleep(0.2)
    raise AssertionError("no XLSX downloaded")


def clear(folder: Path) -> None:
    for p in folder.iterdir():
        p.unlink()
