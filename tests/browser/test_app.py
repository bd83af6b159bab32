"""Real Chromium over the live server: login/logout, each role's pages, masking in a page and
its XLSX, a report page against the CLI's JSON, the widgets board (drag, URL, survives
logout), the Italian switch, and screenshots of the main pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from pbxlens.dashboards import access
from pbxlens.dashboards.server import start_page
from pbxlens.reports import get
from pbxlens.store import users as auth
from tests.browser.helpers import clear, login, logout, nav_hrefs, rows, wait, wait_download
from tests.dashboards.live import DAY1, DAY2

PRESENT = EC.presence_of_element_located


def _user(live, name):
    return next(u for u in auth.list_users(live.store) if u.username == name)


def test_login_and_logout(live, browser, shot):
    d, base = browser, live.base_url
    logout(d, base)
    d.get(base + "/reports/cdr.queues")
    assert "/login?next=/reports/cdr.queues" in d.current_url
    shot("login")
    d.find_element(By.ID, "username").send_keys("sup")
    d.find_element(By.ID, "password").send_keys("wrong-password")
    d.find_element(By.ID, "login-btn").click()
    err = wait(d).until(PRESENT((By.ID, "login-error")))  # the form posts and the page reloads
    assert "wrong username or password" in err.text
    login(d, base, "sup")
    d.get(base + "/")
    wait(d).until(PRESENT((By.CSS_SELECTOR, ".pbx-report-card")))
    shot("home")
    d.find_element(By.ID, "pbx-logout").click()
    wait(d).until(PRESENT((By.ID, "login-btn")))
    d.get(base + "/widgets")
    assert "/login" in d.current_url  # the session is gone


def test_each_role_sees_exactly_its_pages(live, browser):
    d, base = browser, live.base_url
    admin_pages = {"/admin/users", "/admin/ingest", "/admin/settings"}
    for name in ("admin", "sup", "fin", "op"):
        u = _user(live, name)
        expected = {"/"} if access.visible_reports(u) else set()
        expected |= {"/widgets", "/views"} if access.can_use_widgets(u) else set()
        expected |= admin_pages if access.is_admin(u) else set()
        expected |= {"/tickets", "/trace"} if access.can_use_tickets(u) else set()
        expected |= {"/missed"} if u.role in ("operator", "supervisor", "admin") else set()
        expected |= {"/missed/manage"} if u.role in ("supervisor", "admin") else set()
        expected |= {"/billing"} if access.can_manage_billing(u) else set()
        expected |= ({"/live", "/alerts", "/journeys", "/staffing", "/definitions"}
                     if access.is_manager(u) else set())
        login(d, base, name)
        assert nav_hrefs(d) == expected, name
        for path, marker in (("/admin/quarantine", "aq-grid"), ("/reports/cdr.queues", "rp-filterbar"),
                             ("/widgets", "wd-grid")):
            allowed = {"/admin/quarantine": access.is_admin(u),
                       "/reports/cdr.queues": access.can_see_report(u, "cdr.queues"),
                       "/widgets": access.can_use_widgets(u)}[path]
            d.get(base + path)
            wait(d).until(lambda drv, m=marker: drv.find_elements(By.ID, m)
                          or drv.find_elements(By.ID, "pbx-forbidden"))
            assert bool(d.find_elements(By.ID, marker)) == allowed, (name, path)
            assert bool(d.find_elements(By.ID, "pbx-forbidden")) != allowed, (name, path)
        d.get(base + "/")
        if not access.visible_reports(u):  # no report: the home sends them to their start page
            wait(d).until(lambda drv: drv.current_url.rstrip("/") != base.rstrip("/"))
            assert d.current_url.startswith(base + start_page(u)), (name, d.current_url)
            continue
        wait(d).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, ".pbx-report-card"))
        cards = {e.get_attribute("href").rsplit("/", 1)[-1]
                 for e in d.find_elements(By.CSS_SELECTOR, ".pbx-report-card")}
        assert cards == {r.id for r in access.visible_reports(u)}, name


def test_masking_in_the_page_and_its_xlsx(live, browser, downloads, shot):
    d, base = browser, live.base_url
    login(d, base, "sup")  # no privacy right
    d.get(f"{base}/reports/cdr.dashboard?from={DAY1}&to={DAY2}&source=0461123456")
    applied = wait(d).until(PRESENT((By.ID, "rp-applied")))
    wait(d).until(lambda drv: "0461123" in drv.find_element(By.ID, "rp-applied").text)
    assert "0461123xxx" in applied.text
    assert "0461123456" not in d.find_element(By.TAG_NAME, "main").text  # (the input keeps it)
    clear(downloads)
    d.find_element(By.CSS_SELECTOR, ".pbx-export").click()
    wb = openpyxl.load_workbook(wait_download(downloads))
    text = " ".join(str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)
                    for c in r if c is not None)
    assert "0461123456" not in text
    shot("report_dashboard_masked")


def _snapshot(live, tmp_path) -> Path:
    """A copy of the live store as the server sees it now (the server holds the file)."""
    snap = tmp_path / "snap.duckdb"
    with live.store.writing() as cur:
        name = cur.execute("SELECT current_database()").fetchone()[0]
        cur.execute(f"ATTACH '{snap}' AS snap")
        try:
            cur.execute(f'COPY FROM DATABASE "{name}" TO snap')
        finally:
            cur.execute("DETACH snap")
    return snap


def _cli_json(db: Path, report_id: str, *args: str) -> dict:
    exe = Path(sys.executable).with_name("pbxlens")
    out = subprocess.run([str(exe), "report", report_id, "--db", str(db), "--format", "json",
                          "--lang", "it", *args], capture_output=True, text=True, timeout=120,
                         check=True)
    return json.loads(out.stdout)


def _grid_counts(driver) -> tuple[list[str], dict[str, list[int]], list[int]]:
    """(row labels, count cells by row label, totals count cells) of the first grid."""
    data = driver.execute_script("""
        const g = document.querySelector('.pbx-grid');
        const rowsOf = (sel) => Array.from(g.querySelectorAll(sel + ' .ag-row')).map((r) => {
            const cells = {};
            r.querySelectorAll('.ag-cell').forEach((c) => { cells[c.getAttribute('col-id')] = c.innerText.trim(); });
            return [Number(r.getAttribute('row-index')), cells];
        });
        return {left: rowsOf('.ag-pinned-left-cols-container'), center: rowsOf('.ag-center-cols-container'),
                total: rowsOf('.ag-floating-bottom-container')};
    """)
    labels = {i: c["label"] for i, c in data["left"]}
    cells = {labels[i]: c for i, c in data["center"]}
    return [labels[i] for i in sorted(labels)], cells, data["total"][0][1]


def _num(text: str) -> int:
    return int(text.replace(".", "") or 0)


def test_report_filters_match_the_cli_json(live, browser, tmp_path, shot):
    d, base = browser, live.base_url
    login(d, base, "supfull")
    d.get(f"{base}/reports/cdr.queues?from={DAY1}&to={DAY2}")
    wait(d).until(lambda drv: len(rows(drv)) >= 3)
    shot("report_queues")
    labels_all, _, totals_all = _grid_counts(d)
    # the UI's filter: one queue and one exit cause, through the controls
    snap = _snapshot(live, tmp_path)
    base_json = _cli_json(snap, "cdr.queues", "--from", DAY1, "--to", DAY2)
    t = base_json["tables"][0]
    queue = t["rows"][0]["key"]
    dd = d.find_element(By.CSS_SELECTOR, "#rp-field-queue input")
    dd.send_keys(f"({queue})")
    dd.send_keys(Keys.ENTER)
    d.find_element(By.ID, "rp-apply").click()
    wait(d).until(lambda drv: len(rows(drv)) == 1)
    cli = _cli_json(snap, "cdr.queues", "--from", DAY1, "--to", DAY2, "--filter", f"queue={queue}")
    labels, cells, totals = _grid_counts(d)
    ct = cli["tables"][0]
    assert labels == [r["label"] for r in ct["rows"]]
    counts = [(f"c{k}", c["key"]) for k, c in enumerate(ct["columns"]) if c["unit"] == "count"]
    assert counts
    for row in ct["rows"]:
        for col, key in counts:
            assert _num(cells[row["label"]][col]) == (row.get(key) or 0), (row["label"], key)
    for col, key in counts:
        assert _num(totals[col]) == (ct["totals"].get(key) or 0), key
    assert totals != totals_all and len(labels_all) > 1  # the filter changed the numbers
    # the unfiltered page matched the unfiltered CLI too
    assert labels_all == [r["label"] for r in t["rows"]]
    counts_all = [(f"c{k}", c["key"]) for k, c in enumerate(t["columns"]) if c["unit"] == "count"]
    assert [_num(totals_all[c]) for c, _ in counts_all] == [t["totals"].get(k) or 0
                                                          for _, k in counts_all]


def _drag(driver, src, dst):
    driver.execute_script("""
        const [src, dst] = arguments; const dt = new DataTransfer();
        const ev = (el, type) => el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
        ev(src, 'dragstart'); ev(dst, 'dragenter'); ev(dst, 'dragover'); ev(dst, 'drop'); ev(src, 'dragend');
    """, src, dst)


def _titles(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#wd-grid .pbx-widget-title'))"
        ".map((e) => e.innerText);")


def _pick(driver, dropdown_id: str, text: str):
    box = driver.find_element(By.CSS_SELECTOR, f"#{dropdown_id} input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def test_widgets_board_drag_url_and_survives_logout(live, browser, shot):
    d, base = browser, live.base_url
    login(d, base, "sup")
    d.get(base + "/widgets")
    wait(d).until(PRESENT((By.ID, "wd-grid")))
    before = _titles(d)
    d.find_element(By.ID, "wd-add").click()
    wait(d).until(EC.visibility_of_element_located((By.ID, "wd-f-title")))
    for title, report, url in (("Queues board", "cdr.queues", None), ("Health", None, "/health")):
        box = d.find_element(By.ID, "wd-f-title")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(title)
        if report:
            _pick(d, "wd-f-report", get(report).title("it"))
        else:
            d.find_element(By.ID, "wd-f-url").send_keys(url)
        d.find_element(By.ID, "wd-f-save").click()
        wait(d).until(lambda drv, t=title: t in _titles(drv) or drv.find_element(
            By.ID, "wd-f-msg").text not in ("", "Salvato."))
        assert title in _titles(d), d.find_element(By.ID, "wd-f-msg").text
    d.find_element(By.ID, "wd-f-close").click()
    wait(d).until(EC.invisibility_of_element_located((By.ID, "wd-f-title")))
    assert _titles(d) == [*before, "Queues board", "Health"]
    wait(d).until(PRESENT((By.CSS_SELECTOR, "#wd-grid .js-plotly-plot")))
    assert d.find_element(By.CSS_SELECTOR, "#wd-grid iframe").get_attribute("src").endswith("/health")
    # layout mode: unlock, drag "Health" onto "Queues board"
    d.find_element(By.ID, "wd-lock").click()
    wait(d).until(lambda drv: "pbx-layout" in drv.find_element(By.ID, "wd-grid").get_attribute("class"))
    wait(d).until(lambda drv: drv.find_element(By.ID, "wd-dnd-ready").get_attribute("textContent"))
    cards = {c.find_element(By.CSS_SELECTOR, ".pbx-widget-title").text: c
             for c in d.find_elements(By.CSS_SELECTOR, "#wd-grid [data-wid]")}
    _drag(d, cards["Health"], cards["Queues board"])
    wait(d).until(lambda drv: _titles(drv)[-2:] == ["Health", "Queues board"])
    shot("widgets_layout_mode")
    d.find_element(By.ID, "wd-lock").click()
    # the board survives logout/login, in the dragged order
    login(d, base, "sup")
    d.get(base + "/widgets")
    wait(d).until(lambda drv: "Queues board" in _titles(drv))
    assert _titles(d)[-2:] == ["Health", "Queues board"]
    shot("widgets")


def test_italian_switch_is_per_user_and_persists(live, browser, shot):
    d, base = browser, live.base_url
    login(d, base, "supfull")
    d.get(base + "/")
    wait(d).until(PRESENT((By.ID, "pbx-logout")))
    if d.find_element(By.ID, "pbx-logout").text != "Log out":
        d.find_element(By.CSS_SELECTOR, ".pbx-lang").click()  # to English first
        wait(d).until(lambda drv: drv.find_element(By.ID, "pbx-logout").text == "Log out")
    assert _user(live, "supfull").lang == "en"
    wait(d).until(lambda drv: [e.text for e in drv.find_elements(By.TAG_NAME, "h1")] == ["Reports"])
    d.find_element(By.CSS_SELECTOR, ".pbx-lang").click()  # IT
    wait(d).until(lambda drv: drv.find_element(By.ID, "pbx-logout").text == "Esci")
    wait(d).until(lambda drv: [e.text for e in drv.find_elements(By.TAG_NAME, "h1")] == ["Report"])
    assert _user(live, "supfull").lang == "it"
    login(d, base, "supfull")  # persisted in the user row, not the session
    d.get(base + "/widgets")
    wait(d).until(PRESENT((By.ID, "wd-add")))
    assert d.find_element(By.ID, "pbx-logout").text == "Esci"
    assert d.find_element(By.ID, "wd-lock").text.endswith("Sblocca per disporre")
    d.get(base + "/reports/cdr.queues")
    from pbxlens.reports import get

    wait(d).until(lambda drv: drv.title == f"pbxlens · {get('cdr.queues').it}")  # tab title too
    d.get(base + "/")
    wait(d).until(lambda drv: drv.title == "pbxlens · Report")
    assert _user(live, "sup").lang == "it"  # another user's language is untouched


def test_admin_pages_screenshots(live, browser, shot):
    d, base = browser, live.base_url
    login(d, base, "admin")
    for path, marker, name in (("/admin/users", "au-grid", "admin_users"),
                               ("/admin/ingest", "ai-batches", "admin_ingest"),
                               ("/admin/quarantine", "aq-info", "admin_quarantine"),
                               ("/admin/directory", "ad-grid", "admin_directory"),
                               ("/admin/settings", "as-grid", "admin_settings")):
        d.get(base + path)
        wait(d).until(PRESENT((By.ID, marker)))
        if marker == "aq-info":
            wait(d).until(lambda drv: "·" in drv.find_element(By.ID, "aq-info").text)
        shot(name)
    assert "PBXLENS_" in d.find_element(By.ID, "as-readonly").text
