"""Saved views benchmark: background exports and schedules, through the server's own threads.

1. Background export of 100k rows: a report with one row per call (registered by this script
   through `register_report`, as a plugin would) over a range of 100k simulated calls, requested
   as XLSX and CSV and followed until ready by the export worker of `pbxlens serve`; also a
   built-in report (cdr.operators) over the same range. Target: <= 10 s to ready.
2. 100 schedules due at the same minute (different views and reports, two recipients each: a
   user and an external address), run by the scheduler thread and sent by the delivery thread
   to a local SMTP server (aiosmtpd). Target: all sent within 2 minutes.

The store (simulator, seed 21; 51 days x 2,000 calls, about 101k) is kept in bench/out/views.duckdb and
rebuilt with --rebuild. Usage:
    python bench/views.py [--days 51] [--calls-per-day 2000] [--schedules 100] [--pdf 0]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).parent / "out"
STORE = OUT / "views.duckdb"
START = date(2026, 3, 2)
REPORTS = ("cdr.queues", "cdr.operators", "cdr.dashboard", "cdr.queues_by_date",
           "cdr.billing_codes", "cdr.groups", "cdr.operator_accounts", "cdr.provinces",
           "cdr.queue_wait_times", "cdr.coincidences")


def build_store(days: int, per_day: int) -> None:
    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate
    from pbxlens.store import Stores

    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.glob("views.duckdb*"):
        p.unlink()
    sim = OUT / "views-sim"
    shutil.rmtree(sim, ignore_errors=True)
    t0 = time.perf_counter()
    generate(sim, days=days, calls_per_day=per_day, seed=21, start=START,
             formats=["csv-detailed"])
    with Stores(STORE, f"sqlite:///{OUT / 'views-build-ops.sqlite'}") as s, s.writing() as cur:
        ingest_paths(cur, [sim])
        n = cur.execute("SELECT count(*) FROM calls").fetchone()[0]
    shutil.rmtree(sim, ignore_errors=True)
    (OUT / "views-build-ops.sqlite").unlink(missing_ok=True)
    print(f"store: {n:,} calls over {days} days built in {time.perf_counter() - t0:.0f} s")


def register_calls_report() -> str:
    """One row per call (label = unique id): what a finance "every call" export is like."""
    from pbxlens.reports import Report, register_report
    from pbxlens.reports.catalog import Group, Metric
    from pbxlens.reports.engine import RawTable, RowSpec
    from pbxlens.reports.filters import bounds

    def build(con, report, p, d_from, d_to):
        lo, hi = bounds(d_from, d_to)
        rows = con.execute(
            "SELECT unique_id, duration_s, bill_s FROM calls WHERE start_ts >= ?::TIMESTAMPTZ "
            "AND start_ts < ?::TIMESTAMPTZ ORDER BY start_ts, unique_id", [lo, hi]).fetchall()
        facts = {u: {"call": {"n": 1, "dur": d or 0, "bill": b or 0}} for u, d, b in rows}
        return [RawTable("calls", "calls", [RowSpec(u, u) for u, _, _ in rows], facts)], []

    layout = (Group("call", "CALL", "CHIAMATA", (
        Metric("n", "calls", "chiamate", "count"),
        Metric("dur", "duration", "durata", "duration", field="dur"),
        Metric("bill", "billed", "fatturata", "duration", field="bill"))),)
    register_report(Report(id="bench.calls", en="Every call", it="Ogni chiamata",
                           source="CDR call", build=build, tables_doc="one row per call",
                           filters=(), layout=layout))
    return "bench.calls"


def _ops(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'ops.sqlite'}"


def bench_exports(stores, user, days: int) -> list[tuple[str, float, int, int]]:
    from pbxlens.reports import Params
    from pbxlens.views import exports

    stop = threading.Event()
    exports.start_worker(stores, stop, interval_s=0.2)
    p = Params(date_from=START, date_to=START + timedelta(days=days - 1), lang="it")
    out = []
    try:
        for report_id, fmt in (("bench.calls", "xlsx"), ("bench.calls", "csv"),
                               ("cdr.operators", "xlsx")):
            t0 = time.perf_counter()
            eid = exports.request(stores, user, report_id, p, fmt)
            while True:
                row = exports.status(stores, user, eid)
                if row["state"] in ("ready", "failed"):
                    break
                time.sleep(0.05)
            took = time.perf_counter() - t0
            if row["state"] != "ready":
                raise SystemExit(f"export {report_id} failed: {row['error']}")
            out.append((f"{report_id} {fmt}", took, row["rows"], row["size_bytes"]))
    finally:
        stop.set()
    return out


def bench_schedules(stores, users_, n: int, pdf: int) -> tuple[float, int, float]:
    from pbxlens import delivery
    from pbxlens.config import get_settings
    from pbxlens.views import saved, schedules
    from pbxlens.views.query import ReportQuery
    from tests.delivery.servers import smtp_server

    zone = get_settings().timezone
    now = datetime.now(UTC)
    at_local = (now - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
    due_time = at_local.strftime("%H:%M")  # due a minute ago, the same minute for all
    for i in range(n):
        user = users_[i % len(users_)]
        q = ReportQuery("fixed", START + timedelta(days=i % 40), START + timedelta(days=i % 40 + 6))
        v = saved.save(stores, user, f"bench view {i}", REPORTS[i % len(REPORTS)], q)
        schedules.create(stores, user, v.id, "daily", due_time,
                         fmt="pdf" if i < pdf else ("csv" if i % 5 == 4 else "xlsx"),
                         users=[user.id], emails=[f"ext{i}@partner.example"],
                         at=now - timedelta(days=1))
    expected = 2 * n
    settings = get_settings()
    with smtp_server() as sink:
        settings.smtp_enabled, settings.smtp_host, settings.smtp_port = True, "127.0.0.1", sink.port
        stop = threading.Event()
        t0 = time.perf_counter()
        schedules.start_scheduler(stores, stop, interval_s=20)
        delivery.start_sender(stores, stop, interval_s=1)
        got = sink.wait_for(expected, seconds=600)
        took = time.perf_counter() - t0
        stop.set()
    with stores.ops_read() as c:
        failed = len(delivery.messages(c, state="failed"))
    if failed:
        print(f"  {failed} deliveries failed")
    return took, len(got), sum(len(m.as_bytes()) for _, m in got) / max(1, len(got))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=51)
    ap.add_argument("--calls-per-day", type=int, default=2000)
    ap.add_argument("--schedules", type=int, default=100)
    ap.add_argument("--pdf", type=int, default=0, help="how many of the schedules send PDF")
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    if args.rebuild or not STORE.exists():
        build_store(args.days, args.calls_per_day)
    import tempfile

    from pbxlens.store import Stores, users
    from pbxlens.views import schedules

    register_calls_report()
    tmp = Path(tempfile.mkdtemp(prefix="pbxlens-bench-views-"))
    for p in OUT.glob("views.duckdb*"):
        shutil.copy(p, tmp / p.name)
    rc = 0
    with Stores(tmp / "views.duckdb", _ops(tmp)) as stores:
        made = []
        for name, privacy in (("finance", True), ("sup1", False), ("sup2", True)):
            u = users.create_user(stores, name, "bench-password-1", "admin", privacy=privacy)
            schedules.set_user_email(stores, u.id, f"{name}@example.it")
            made.append(users.get_user(stores, u.id))
        print("1. background exports (target <= 10 s to ready)")
        print(f"   {'export':<22}{'rows':>9}{'bytes':>12}{'seconds':>9}{'ratio':>8}")
        for label, took, rows, size in bench_exports(stores, made[0], args.days):
            ratio = took / 10
            rc |= ratio > 1 and label.startswith("bench.calls")
            print(f"   {label:<22}{rows:>9,}{size:>12,}{took:>9.2f}{ratio:>8.2f}")
        print(f"2. {args.schedules} schedules due at the same minute (target: all sent <= 120 s)")
        took, n, avg = bench_schedules(stores, made, args.schedules, args.pdf)
        ratio = took / 120
        rc |= ratio > 1 or n < 2 * args.schedules
        print(f"   {n} mails ({args.pdf} schedules as PDF), {avg / 1024:.0f} KB each on average, "
              f"all sent in {took:.1f} s; ratio {ratio:.2f}")
    shutil.rmtree(tmp, ignore_errors=True)
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())
