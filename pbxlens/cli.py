"""The `pbxlens` command: thin wrappers that parse options, call the modules, print with rich."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pbxlens import PbxlensError
from pbxlens.cli_common import fail, parse_date
from pbxlens.console import err, out
from pbxlens.dashboards.intake import THREADS as INTAKE_THREADS  # standard library only
from pbxlens.store import pandas_probe
from pbxlens.store.server_link import forwardable, open_analytics, open_stores

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="CDR and call-center analytics for KalliopePBX and Asterisk.")

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store (default: PBXLENS_DB "
                                                "or data/pbxlens.duckdb)")]


def _open(db: Path | None, *, read_only: bool = False):
    """The analytics store (the server's, when it runs), or a one-line error (exit 2, or 3
    when another process holds it)."""
    try:
        return open_analytics(db, read_only=read_only)
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write the files into")],
    days: Annotated[int, typer.Option(min=1, max=3660)] = 30,
    calls_per_day: Annotated[int | None, typer.Option(
        min=1, max=1_000_000, help="arrivals on an average weekday (default: the scenario's)")]
    = None,
    seed: int = 1,
    start: Annotated[str | None, typer.Option(help="first day, YYYY-MM-DD")] = None,
    formats: Annotated[str, typer.Option(help="comma-separated: csv,csv-detailed,json,xml,xlsx; "
                                "Call Center CDR: cc-csv,cc-csv-detailed,cc-json,cc-xml,"
                                "cc-xlsx,cc-xlsx-detailed; also: events, feedback")]
    = "csv,csv-detailed,json,xml,xlsx",
    scenario: Annotated[str, typer.Option(
        help="contact-center (default), small-office, night-weekend, multi-tenant "
             "(docs/simulator.md)")] = "contact-center",
) -> None:
    """Simulate a call center and write its PBX exports and truth tables (deterministic per
    seed)."""
    from pbxlens import simulate

    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    known = simulate.ALL_FORMATS + simulate.CC_FORMATS + simulate.EXTRA_FORMATS
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise fail(f"unknown format(s): {', '.join(unknown)}; "
                    f"choose from {', '.join(known)}")
    if scenario not in simulate.SCENARIOS:
        raise fail(f"unknown scenario {scenario!r}; choose from {', '.join(simulate.SCENARIOS)}")
    summary = simulate.generate(out_dir, days=days, calls_per_day=calls_per_day, seed=seed,
                                start=parse_date(start, "--start"), formats=chosen,
                                scenario=scenario)
    out.print(f"wrote {summary.calls} calls ({summary.legs} path lines) in "
              f"{summary.seconds:.1f} s to {out_dir}:")
    for f in summary.files:
        out.print(f"  {f}")


@app.command()
@forwardable("jobs")
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Load PBX exports (CDR CSV/JSON/XML/XLSX, directory file) into the store: a job of the
    analytics writer (the server's, when one runs)."""
    from pbxlens.ingest.job import ingest_job
    from pbxlens.store.server_link import in_server

    label = ", ".join(p.name for p in paths)[:500]
    try:
        with open_stores(db) as stores:
            if as_json or in_server():
                results = stores.writer.run("ingest", label, ingest_job(paths),
                                            created_by="cli")
            else:
                results = _ingest_with_progress(stores, paths, label)
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    if as_json:
        sys.stdout.write(json.dumps({"files": [r.public() for r in results]}) + "\n")
    else:
        _print_results(results)
    errors = [r for r in results if r.error]
    if errors:
        raise fail(errors[0].error if len(errors) == 1
                    else f"{len(errors)} files could not be read; first: {errors[0].error}")


def _ingest_with_progress(stores, paths, label):
    """Ingest with a rich bar: files done, and the running step's progress inside DuckDB."""
    import threading

    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from pbxlens.ingest.job import ingest_job
    from pbxlens.ingest.sniff import walk

    files = walk(paths)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  console=err.get(), transient=True) as bar:
        overall = bar.add_task(f"{len(files)} files", total=max(len(files), 1))
        step = bar.add_task("", total=100)
        seen: list[str] = []
        stop = threading.Event()
        running = []

        def note(path: str, stage: str) -> None:
            if path not in seen:
                if seen:
                    bar.advance(overall)
                seen.append(path)
            bar.update(step, description=f"{stage} {Path(path).name}", completed=0)

        def poll() -> None:  # DuckDB reports the running query's progress to any thread
            while not stop.wait(0.2):
                pct = running[0].query_progress() if running else -1
                if pct >= 0:
                    bar.update(step, completed=pct)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            results = stores.writer.run("ingest", label, ingest_job(
                paths, progress=note, watch=running.append), created_by="cli")
        finally:
            stop.set()
            poller.join()
        bar.update(overall, completed=len(files))
    return results


def _print_results(results) -> None:
    table = Table(title="ingest")
    for col in ("file", "format", "read", "loaded", "duplicate", "quarantined", "note"):
        table.add_column(col, justify="right" if col in ("read", "loaded", "duplicate",
                                                          "quarantined") else "left")
    for r in results:
        table.add_row(Path(r.path).name, r.format, f"{r.rows_read:,}", f"{r.rows_loaded:,}",
                      f"{r.rows_duplicate:,}", f"{r.rows_quarantined:,}",
                      r.error or r.skipped or "")
    out.print(table)


@app.command()
@forwardable("read")
def status(db: DbOption = None) -> None:
    """What the store holds: calls, path lines, batches, quarantine, date range."""
    from pbxlens.store import analytics as store

    con = _open(db, read_only=True)
    row = con.execute(
        "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM call_legs),"
        " (SELECT count(*) FROM ingest_batches), (SELECT count(*) FROM quarantine),"
        " (SELECT min(start_ts)::DATE FROM calls), (SELECT max(start_ts)::DATE FROM calls),"
        " (SELECT count(*) FROM operators), (SELECT count(*) FROM queues)"
    ).fetchone()
    table = Table(title=f"store {store.resolve_path(db)}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, value in zip(
        ("calls", "path lines", "batches", "quarantined rows", "first day", "last day",
         "operators", "queues"), row, strict=True):
        table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value or ""))
    out.print(table)
    by = con.execute("SELECT direction, status, count(*) FROM calls GROUP BY ALL ORDER BY ALL")
    t2 = Table(title="calls by direction and status")
    for c in ("direction", "status", "calls"):
        t2.add_column(c)
    for d, s, n in by.fetchall():
        t2.add_row(d, s, f"{n:,}")
    out.print(t2)
    _print_steps(con)


def _print_steps(con) -> None:
    """Where each post-batch step stands (pbxlens.pipeline)."""
    import duckdb

    from pbxlens import pipeline

    try:
        steps = pipeline.status(con)
    except duckdb.CatalogException:  # a store not yet migrated (opened read-only)
        return
    t3 = Table(title="post-batch steps")
    for c in ("step", "last batch", "batches behind", "calls behind", "finished", "last run s",
              "error"):
        t3.add_column(c, justify="left" if c in ("step", "finished", "error") else "right")
    for s in steps:
        t3.add_row(s.step, str(s.last_batch), f"{s.batches_behind:,}", f"{s.calls_behind:,}",
                   "" if s.finished_at is None else f"{s.finished_at:%Y-%m-%d %H:%M:%S}",
                   "" if s.seconds is None else f"{s.seconds:.2f}", s.error or "")
    out.print(t3)
    p = pipeline.pending(con)
    if p.behind:
        out.print(f"settled through batch {p.settled_batch}; processing {p.batches:,} batches"
                  f" ({p.calls:,} calls)")


OpsUrlOption = Annotated[str | None, typer.Option(
    "--ops-url", help="operations store URL (default: PBXLENS_OPS_URL, else SQLite beside the "
    "DuckDB file), e.g. postgresql+psycopg://pbxlens@/pbxlens")]


@app.command()
def demo(
    db: DbOption = None,
    data_dir: Annotated[Path, typer.Option("--data", help="where the sample month is written")]
    = Path("data/demo"),
    seed: int = 7,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="then create demo "
                                              "users and serve the web app")] = True,
    host: str = "127.0.0.1",
    port: int = 8050,
    ops_url: OpsUrlOption = None,
) -> None:
    """Build the demo when the store is empty (a simulated month of every module: CDR, Call
    Center CDR, events, feedback, tariffs and a billing profile, companies, tickets), show what
    it holds, then create demo users (printed with their passwords) and serve the web app."""
    from pbxlens.dashboards import demo as demo_data
    from pbxlens.store import Stores

    try:
        with Stores(db, ops_url) as stores:
            with stores.cursor() as cur:
                empty = cur.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
            if empty:
                demo_data.build(stores, data_dir, seed=seed, say=out.print)
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    status(db=db)
    if serve_after:
        serve(db=db, host=host, port=port, demo_users=True, ops_url=ops_url)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8050,
    threads: Annotated[int, typer.Option(min=1, max=64)] = 8,
    demo_users: Annotated[bool, typer.Option(hidden=True)] = False,
    ops_url: OpsUrlOption = None,
    intake_port: Annotated[int | None, typer.Option(
        min=1, max=65535, help="also serve the webhooks and the operators' callback API "
        "(Bearer tokens) on this port, from intake processes of their own")] = None,
    intake_workers: Annotated[int, typer.Option(
        min=1, max=16, help="intake processes on --intake-port")] = 2,
    intake_threads: Annotated[int, typer.Option(
        min=1, max=256, help="threads per intake process: requests waiting for the same "
        "commit share it")] = INTAKE_THREADS,
) -> None:
    """Serve the web app, HTTP API and background jobs: this process owns both stores (CLI
    commands run meanwhile go through it)."""
    from pbxlens.dashboards.server import serve as run_server

    def before(web_store) -> None:
        if demo_users:
            from pbxlens.dashboards.demo import ensure_demo_users

            table = Table("user", "role", "password", title="demo users")
            for row in ensure_demo_users(web_store):
                table.add_row(*row)
            out.print(table)
        out.print(f"serving on http://{host}:{port}/ (Ctrl-C to stop)")

    try:
        run_server(db=db, host=host, port=port, threads=threads, before=before, ops_url=ops_url,
                   intake_port=intake_port, intake_workers=intake_workers,
                   intake_threads=intake_threads)
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        pass


@app.command()
@forwardable("read")
def quarantine(
    db: DbOption = None,
    batch: Annotated[int | None, typer.Option(help="only this batch")] = None,
    limit: int = 50,
) -> None:
    """List quarantined rows with their file, line and reason."""

    con = _open(db, read_only=True)
    rows = con.execute(
        "SELECT batch_id, source, line, reason, left(raw, 80) FROM quarantine"
        " WHERE ? IS NULL OR batch_id = ? ORDER BY batch_id, record LIMIT ?",
        [batch, batch, limit],
    ).fetchall()
    table = Table(title="quarantine")
    for c in ("batch", "file", "line", "reason", "raw"):
        table.add_column(c, overflow="fold")
    for b, src, line, reason, raw in rows:
        table.add_row(str(b), Path(src).name, str(line or ""), reason, raw or "")
    out.print(table)


@app.command()
def reports() -> None:
    """List the reports of the catalog (id, English and Italian titles)."""
    from pbxlens.reports import all_reports

    table = Table("id", "title", "titolo")
    for d in all_reports():
        table.add_row(d.id, d.en, d.it)
    out.print(table)


@app.command()
@forwardable("read")
def report(
    report_id: Annotated[str, typer.Argument(metavar="ID", help="report id, see `pbxlens reports`")],
    db: DbOption = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day (inclusive)")] = None,
    filters: Annotated[list[str] | None, typer.Option(
        "--filter", help="key=value[,value...]; repeatable")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json|csv|xlsx")] = "table",
    period: Annotated[str | None, typer.Option(
        "--period", help="a relative period in the PBX time zone instead of --from/--to: "
        "today, yesterday, week_to_date, last_week, last_7_days, month_to_date, last_month, "
        "year_to_date, last_year")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="write to this file")] = None,
    lang: Annotated[str, typer.Option(help="en|it")] = "en",
    lake: Annotated[Path | None, typer.Option("--lake", help="run over a Parquet lake "
                                              "(export-lake) instead of --db")] = None,
    engine_: Annotated[str, typer.Option("--engine", help="duckdb|spark (spark needs --lake)")
                       ] = "duckdb",
    spark_master: Annotated[str | None, typer.Option("--spark-master", help="Spark master URL "
                                                     "(default local[2])")] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", help="seconds the report may run (default: setting "
        "report_time_limit_s; 0 = no limit)")] = None,
    max_months: Annotated[int | None, typer.Option(
        "--max-months", help="longest range in months (default: setting report_max_months; "
        "0 = any)")] = None,
) -> None:
    """Run one report of the catalog and print or export it."""
    from pbxlens.reports import Guard, Params, export, get, periods, run
    from pbxlens.reports.filters import parse_filters
    from pbxlens.store.analytics import timezone as analytics_tz

    try:
        defn = get(report_id)
    except KeyError:
        raise fail(f"unknown report {report_id!r}; see `pbxlens reports`") from None
    if fmt not in ("table", "json", "csv", "xlsx"):
        raise fail(f"--format: expected table, json, csv or xlsx, got {fmt!r}")
    if lang not in ("en", "it"):
        raise fail(f"--lang: expected en or it, got {lang!r}")
    if fmt == "xlsx" and out_file is None:
        raise fail("--format xlsx needs --out FILE")
    try:
        d_from, d_to = parse_date(date_from, "--from"), parse_date(date_to, "--to")
        if period and (period := periods.check(period)) != periods.FIXED:
            d_from, d_to = periods.resolve(period, periods.local_day(datetime.now(UTC),
                                                                     analytics_tz()))
        params = Params(date_from=d_from, date_to=d_to,
                        filters=parse_filters(filters or [], defn), lang=lang)
        params.resolved()
        if engine_ not in defn.engines:
            raise fail(f"{report_id} runs on DuckDB only (its SQL has no Spark form yet)")
        from pbxlens.scale.cli import open_reports

        con = open_reports(db, lake, engine_, spark_master)
        guard = Guard.from_settings()
        guard = Guard(time_limit_s=guard.time_limit_s if time_limit is None else time_limit,
                      max_months=guard.max_months if max_months is None else max_months)
        result = run(con, defn, params, guard=guard)
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    if fmt == "xlsx":
        export.to_xlsx(result, out_file)
        err.print(f"wrote {out_file}")
        return
    if fmt == "table" and out_file is None:
        export.print_tables(result, out)
        return
    text = export.to_json(result) if fmt == "json" else export.to_csv(result)
    if fmt == "table":
        from rich.console import Console as _C

        with open(out_file, "w", encoding="utf-8") as fh:
            export.print_tables(result, _C(file=fh, width=400))
        return
    if out_file:
        out_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command("pbx-auth-header")
def pbx_auth_header(
    user: Annotated[str, typer.Option("--user")],
    password: Annotated[str, typer.Option("--password")],
    domain: Annotated[str, typer.Option("--domain")],
    salt: Annotated[str, typer.Option("--salt", help="from GET rest/salt/<domain>")],
    nonce: Annotated[str | None, typer.Option(help="hex, >= 8 chars (default: random)")] = None,
    created: Annotated[str | None, typer.Option(help="YYYY-MM-DDThh:mm:ssZ (default: now, UTC)")]
    = None,
) -> None:
    """Print the KalliopePBX X-authenticate header line for one REST request."""
    from pbxlens.ingest.pbx_api import CREATED_FORMAT, header_line

    if created is not None:
        try:
            datetime.strptime(created, CREATED_FORMAT)
        except ValueError:
            raise fail(f"--created: expected YYYY-MM-DDThh:mm:ssZ, got {created!r}") from None
    sys.stdout.write(header_line(user, password, domain, salt, nonce=nonce, created=created) + "\n")


@app.command()
@forwardable("jobs")
def pull(
    pbx: Annotated[str, typer.Option("--pbx", help="PBX base URL, e.g. https://pbx.example")],
    user: Annotated[str, typer.Option("--user")],
    password: Annotated[str, typer.Option("--password", envvar="PBXLENS_PBX_PASSWORD")],
    domain: Annotated[str, typer.Option("--domain", help="tenant domain")] = "default",
    since: Annotated[str | None, typer.Option(help="first day YYYY-MM-DD (default: the stored "
                                              "watermark - 1 day, else a week back)")] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="skip TLS verification")] = False,
    db: DbOption = None,
) -> None:
    """Pull the CDR from a KalliopePBX REST API, day by day from the stored watermark."""
    from pbxlens.ingest import pbx_api

    try:
        with open_stores(db) as stores, stores.cursor() as cur, pbx_api.PbxClient(
                pbx, user, password, domain, verify=not insecure) as client:
            res = pbx_api.pull(cur, client, since=parse_date(since, "--since"),
                               progress=lambda m: err.print(m, highlight=False),
                               write=lambda fn: stores.writer.run(
                                   "pull", f"PBX {pbx}", lambda ctx: fn(ctx.con),
                                   created_by="cli"), ops=stores.ops)
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    out.print(f"pulled {len(res.days)} days, {res.calls:,} calls; watermark {res.watermark}")


@app.command("fake-pbx")
def fake_pbx(
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8088,
    host: str = "127.0.0.1",
    data: Annotated[Path | None, typer.Option("--data", help="folder with cdr.json (default: "
                                              "simulate the last 3 days)")] = None,
    user: str = "admin",
    password: str = "admin",  # noqa: S107 - the fake PBX's demo login
    domain: str = "default",
) -> None:
    """Serve a fake KalliopePBX REST API (salt, CDR by day) with X-authenticate checks."""
    import tempfile

    from pbxlens.simulate.fake_pbx import FakePbx, demo_data

    fake = FakePbx(users={user: (password, domain)},
                   salts={domain: "b5a8fdcf2f8d5acdad33c4a072a97d7a"})
    folder = data or demo_data(Path(tempfile.mkdtemp(prefix="pbxlens-fakepbx-")))
    n = fake.load_dir(folder)
    srv = fake.server(host, port)
    out.print(f"fake PBX with {n:,} calls on http://{host}:{srv.server_address[1]}/rest/ "
              f"(user {user}, domain {domain}; Ctrl-C to stop)")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


from pbxlens.billing.cli import app as billing_app  # noqa: E402
from pbxlens.scale import cli as scale_cli  # noqa: E402

app.add_typer(billing_app, name="billing")
from pbxlens.tickets.cli import app as tickets_app  # noqa: E402

app.add_typer(tickets_app, name="tickets")
from pbxlens.ingest.activity_cli import app as activity_app  # noqa: E402

app.add_typer(activity_app, name="activity")
from pbxlens.missed_calls.cli import app as missed_app  # noqa: E402
from pbxlens.store.users_cli import app as users_app  # noqa: E402

app.add_typer(users_app, name="users")

app.add_typer(missed_app, name="missed")
scale_cli.register(app)  # export-lake, backup, restore, retention, rollups-rebuild
from pbxlens.reports import definitions_cli  # noqa: E402

definitions_cli.register(app)  # definitions, calendars, drill, journeys, journey, staffing
from pbxlens.views.cli import schedules_app, views_app  # noqa: E402

app.add_typer(views_app, name="views")
app.add_typer(schedules_app, name="schedules")
from pbxlens.live import cli as live_cli  # noqa: E402

live_cli.register(app)  # simulate-live, live-check


def main() -> None:
    pandas_probe.skip()  # before any DuckDB parameter: ~0.5 s of pandas import per command
    try:
        app()
    except PbxlensError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
