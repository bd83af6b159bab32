"""The complete page crawl: every page × every role × both languages over the demo, in real
Chromium at 1366 px, with a screenshot of each page for review.

The browser test (tests/browser/test_crawl.py) crawls admin in both languages and the other
roles in their own language over their own pages, on the small test store; this script crawls
the whole matrix over the demo month (`pbxlens demo`'s data: tariffs, companies, tickets,
Call Center CDR), so every module has data on the page. It prints one line per role and
language (pages, refused, findings, seconds, seconds per page) and writes

    bench/out/ui_crawl/<lang>/<role>/<page>.png     the screenshots (the page's full height)
    bench/out/ui_crawl/findings.json                every finding, by role, language and page

It exits with status 1 when a page has a finding.

    python bench/ui_crawl.py                         # the demo at 300 calls a day
    python bench/ui_crawl.py --per-day 1200          # the demo's own size
    python bench/ui_crawl.py --roles admin --langs it
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out" / "ui_crawl"
PASSWORD = "bench-password-1"
ROLES = ("admin", "supervisor", "finance", "operator")
LANGS = ("en", "it")
MAX_SHOT_HEIGHT = 6000  # px: a page taller than this is shot down to there


def demo_store(work: Path, per_day: int):
    """A fresh demo (the generated month and every module's data) in `work`."""
    from pbxlens.dashboards import demo
    from pbxlens.store import Stores

    stores = Stores(work / "demo.duckdb", threaded_writer=True)  # its operations store beside
    stores.writer.start()
    demo.build(stores, work / "data", calls_per_day=per_day, say=lambda m: print(m, flush=True))
    return stores


def start_server(stores) -> tuple[str, object]:
    import waitress

    from pbxlens.dashboards.server import create_app

    app = create_app(stores, https=False)
    server = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", app


def crawl_user(stores, role: str, lang: str):
    from pbxlens.dashboards.demo import DEMO_USERS
    from pbxlens.store import users

    name = f"crawl-{role}-{lang}"
    privacy = next(p for _n, r, p in DEMO_USERS if r == role)
    extension = next((u.extension for u in users.list_users(stores) if u.role == role
                      and u.extension), None)
    for u in users.list_users(stores):
        if u.username == name:
            return u
    return users.create_user(stores, name, PASSWORD, role, privacy=privacy, lang=lang,
                             extension=extension)


def samples(stores) -> tuple[dict, dict, frozenset]:
    """Path-variable samples, query strings and the directory's names, from the demo."""
    from pbxlens.reports import all_reports
    from pbxlens.store import users
    from pbxlens.store.schema import tickets
    from tests.browser import crawl

    with stores.cursor() as cur:
        (uid,) = cur.execute("SELECT unique_id FROM call_legs GROUP BY unique_id"
                             " ORDER BY count(*) DESC, unique_id LIMIT 1").fetchone()
        names = crawl.data_names(cur)
    names |= {u.username for u in users.list_users(stores)}  # in charge of a ticket, ...
    with stores.ops_read() as c:
        ticket = c.execute(tickets.select().limit(1)).first()
    queries = {"/tickets/edit": f"?id={ticket.id}"} if ticket else {}
    return {"report_id": [d.id for d in all_reports()], "unique_id": [uid]}, queries, names


def shoot(driver, path: Path) -> None:
    """The page at its full height: the viewport is stretched to the page for the shot (the
    page lays itself out again at 1366 px wide), then given back."""
    from tests.browser import crawl

    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": crawl.CRAWL_WIDTH, "height": max(1, min(height, MAX_SHOT_HEIGHT)),
        "deviceScaleFactor": 1, "mobile": False})
    try:
        driver.execute_async_script(  # two frames: the new layout is painted
            "const done = arguments[0];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done()));")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(driver.get_screenshot_as_png())
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def slug(url: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", url.split("?")[0].strip("/")) or "home"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-day", type=int, default=300, help="demo calls a day")
    ap.add_argument("--roles", default=",".join(ROLES))
    ap.add_argument("--langs", default=",".join(LANGS))
    args = ap.parse_args()

    from tests.browser import crawl
    from tests.browser.helpers import login

    work = Path(tempfile.mkdtemp(prefix="pbxlens-bench-crawl-"))
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    try:
        t0 = time.perf_counter()
        stores = demo_store(work, args.per_day)
        base, _app = start_server(stores)
        values, queries, names = samples(stores)
        pages = crawl.registered_pages(values, queries)
        print(f"demo built in {time.perf_counter() - t0:.0f} s; {len(pages)} pages", flush=True)
        driver = crawl.crawl_driver()
        found: dict = {}
        print(f"{'role':11} {'lang':4} {'pages':>5} {'refused':>7} {'findings':>8} {'s':>7}"
              f" {'s/page':>7}", flush=True)
        try:
            for role in args.roles.split(","):
                for lang in args.langs.split(","):
                    user = crawl_user(stores, role, lang)
                    login(driver, base, user.username, PASSWORD)
                    t1, refused, bad = time.perf_counter(), 0, 0
                    for page in pages:
                        seen = crawl.visit(driver, base, page, lang, data=names)
                        shoot(driver, OUT / lang / role / f"{slug(page.url)}.png")
                        refused += seen.forbidden
                        if seen.findings:
                            bad += len(seen.findings)
                            found.setdefault(f"{role} {lang}", {})[page.url] = seen.findings
                    secs = time.perf_counter() - t1
                    (OUT / "findings.json").write_text(json.dumps(found, indent=1,
                                                                  ensure_ascii=False))
                    print(f"{role:11} {lang:4} {len(pages):5d} {refused:7d} {bad:8d} {secs:7.1f}"
                          f" {secs / len(pages):7.2f}", flush=True)
        finally:
            driver.quit()
            shutil.rmtree(driver.profile_dir, ignore_errors=True)
        print(f"screenshots and findings.json in {OUT}")
        if found:
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
