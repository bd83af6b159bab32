from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.dashboards.live import live_server

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live():
    return live_server()


@pytest.fixture(scope="session")
def downloads():
    d = Path(tempfile.mkdtemp(prefix="pbxlens-dl-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(downloads):
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.fail("Chromium is not installed: run `make test`, which installs it")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="pbxlens-chrome-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run", f"--user-data-dir={profile}", "--window-size=1500,1200"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """Screenshots of the main pages: $PBXLENS_ARTIFACTS, else <pytest basetemp>/artifacts."""
    import os

    d = Path(os.environ.get("PBXLENS_ARTIFACTS") or tmp_path_factory.getbasetemp() / "artifacts")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def shot(browser, artifacts):
    def take(name: str) -> Path:
        p = artifacts / f"{name}.png"
        browser.save_screenshot(str(p))
        return p

    return take
