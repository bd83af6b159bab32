"""Web UI benchmark: the first render of each report page in real Chromium, against the CLI.

For every report of the catalog, over a one-month range: the browser time from navigation to
the grid's rows present (or the page's "no data" box), the time until every table of the
report shows its rows (a page renders its first screenful of tables at once and the rest right
after), the time of `pbxlens report ID --format json` for the same report and filters (a
subprocess, Python start included, run before the server opens the store), and their ratio.

    python bench/ui.py                 # a small store simulated now (30 days x 400 calls)
    python bench/ui.py --db PATH       # a COPY of PATH (the original is never opened)
    python bench/ui.py ID ...          # only these reports

The store the server runs on is always a temporary copy: the server writes to it (users,
migrations), and the CLI runs against that same copy before the server starts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PASSWORD = "bench-password-1"


def small_store(folder: Path, days: int, per_day: int) -> tuple[Path, date]:
    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate
    from pbxlens.store import analytics as db

    start = date(2026, 4, 1)
    generate(folder / "sim", days=days, calls_per_day=per_day, seed=7, start=start,
             formats=["csv-detailed"])
    path = folder / "store.duckdb"
    con = db.connect(path)
    ingest_paths(con, [folder / "sim"])
    con.close()
    return path, start


def first_day(path: Path) -> date:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        d = con.execute("SELECT coalesce((SELECT min(start_ts)::DATE FROM calls), "
                        "(SELECT min(day) FROM queue_calls))").fetchone()[0]  # a CC-only store
    finally:
        con.close()
    return d


def cli_time(db: Path, report_id: str, d_from: date, d_to: date, repeat: int
             ) -> tuple[float, int | str, int]:
    """The best time of `pbxlens report`, its row count (or the CLI's refusal, the query
    guard's time limit, instead) and its table count."""
    exe = Path(sys.executable).with_name("pbxlens")
    best, rows, tables = float("inf"), 0, 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run([str(exe), "report", report_id, "--db", str(db), "--format", "json",
                              "--from", d_from.isoformat(), "--to", d_to.isoformat()],
                             capture_output=True, text=True, timeout=1800)
        best = min(best, time.perf_counter() - t0)
        if out.returncode:
            return (best, (out.stderr.strip().splitlines() or ["exit " + str(out.returncode)])[-1],
                    0)
        found = json.loads(out.stdout)["tables"]
        rows, tables = sum(len(t["rows"]) for t in found), len(found)
    return best, rows, tables


def start_server(db: Path) -> str:
    import waitress

    from pbxlens.dashboards.server import create_app
    from pbxlens.store import Stores as Store
    from pbxlens.store import users as auth

    store = Store(db)
    if not any(u.username == "bench" for u in auth.list_users(store)):
        auth.create_user(store, "bench", PASSWORD, "admin", privacy=True, lang="en")
    app = create_app(store, https=False)
    server = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}"


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--window-size=1500,1200",
              f"--user-data-dir={tempfile.mkdtemp(prefix='pbxlens-bench-chrome-')}"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    d.set_page_load_timeout(600)
    return d


# the page's answer: rows, or that there are none (its "no data" box, its hint of what to load,
# an empty grid's overlay), or the query guard's message
SHOWN = {"rows": ".ag-center-cols-container .ag-row",
         "empty": "#rp-content .pbx-empty, #rp-content .pbx-hint, .ag-overlay-no-rows-wrapper",
         "message": "#rp-content .pbx-alert"}


# the report's grids that show their rows or their "no rows" overlay
GRIDS_SHOWN = """return Array.from(document.querySelectorAll('#rp-content .ag-root')).filter(
    (g) => g.querySelector('.ag-row, .ag-overlay-no-rows-wrapper')).length;"""


def page_time(d, base: str, report_id: str, d_from: date, d_to: date, tables: int = 0
              ) -> tuple[float, str, float]:
    """Seconds from navigation to the page's first rows, its "no data" box or its message (the
    query guard's), which of the three it showed, and the seconds until all its `tables` show
    their rows (the first screenful of tables renders with the page, the rest right after)."""
    from selenium.webdriver.common.by import By

    d.get(base + "/")  # a neutral page, so the next navigation is a fresh first render
    t0 = time.perf_counter()
    d.get(f"{base}/reports/{report_id}?from={d_from}&to={d_to}")
    deadline = t0 + 1800
    first, what = None, ""
    while time.perf_counter() < deadline:
        if first is None:
            what = next((w for w, css in SHOWN.items() if d.find_elements(By.CSS_SELECTOR, css)),
                        "")
            first = time.perf_counter() - t0 if what else None
        if first is not None and (what == "message" or d.execute_script(GRIDS_SHOWN) >= tables):
            if d.find_elements(By.CSS_SELECTOR, SHOWN["rows"]):  # an empty table came first
                what = "rows"
            return first, what, time.perf_counter() - t0
        time.sleep(0.02)
    raise TimeoutError(report_id)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="a store to copy (default: simulate a small one)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-day", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=2, help="runs per report; the best is kept")
    ap.add_argument("reports", nargs="*", help="only these reports (default: the catalog)")
    args = ap.parse_args()

    from selenium.webdriver.common.by import By

    from pbxlens.reports import all_reports

    work = Path(tempfile.mkdtemp(prefix="pbxlens-bench-ui-"))
    try:
        if args.db:
            if not args.db.exists():
                sys.exit(f"no store at {args.db}")
            db = work / "store.duckdb"
            shutil.copyfile(args.db, db)
            wal = args.db.with_name(args.db.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, db.with_name(db.name + ".wal"))
            start = first_day(db)
            label = f"copy of {args.db}"
        else:
            db, start = small_store(work, args.days, args.per_day)
            label = f"simulated {args.days} days x {args.per_day} calls"
        d_from, d_to = start, start + timedelta(days=30)
        reports = args.reports or [r.id for r in all_reports()]
        print(f"store: {label}; range {d_from} .. {d_to}", flush=True)
        cli = {r: cli_time(db, r, d_from, d_to, args.repeat) for r in reports}
        base = start_server(db)
        d = browser()
        try:
            d.get(base + "/login")
            d.find_element(By.ID, "username").send_keys("bench")
            d.find_element(By.ID, "password").send_keys(PASSWORD)
            d.find_element(By.ID, "login-btn").click()
            page_time(d, base, reports[0], d_from, d_to)  # warm the browser's asset cache
            print(f"{'report':28} {'rows':>6} {'tables':>6} {'browser s':>10} {'all s':>6}"
                  f" {'shown':>8} {'cli json s':>11} {'ratio':>7}")
            for r in reports:
                c, rows, tables = cli[r]
                t, shown, full = min(page_time(d, base, r, d_from, d_to, tables)
                                     for _ in range(args.repeat))
                count = f"{rows:6d}" if isinstance(rows, int) else "     -"
                print(f"{r:28} {count} {tables:6d} {t:10.2f} {full:6.2f} {shown:>8} {c:11.2f}"
                      f" {t / c:7.2f}" + ("" if isinstance(rows, int) else f"  cli: {rows}"),
                      flush=True)
        finally:
            d.quit()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
