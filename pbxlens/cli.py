"""The `pbxlens` command: thin wrappers that parse options, call the modules, print with rich."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pbxlens import PbxlensError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="CDR and call-center analytics for KalliopePBX and Asterisk.")
out = Console()
err = Console(stderr=True)

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store (default: PBXLENS_DB "
                                                "or data/pbxlens.duckdb)")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _open(db: Path | None, *, read_only: bool = False):
    """The store, or a one-line error (exit 2, or 3 when another process holds it)."""
    from pbxlens import db as store

    try:
        return store.connect(db, read_only=read_only)
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise _fail(f"{name}: not a date in the form YYYY-MM-DD: {value!r}") from None


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write the files into")],
    days: Annotated[int, typer.Option(min=1, max=3660)] = 30,
    calls_per_day: Annotated[int, typer.Option(min=1, max=1_000_000)] = 2000,
    seed: int = 1,
    start: Annotated[str | None, typer.Option(help="first day, YYYY-MM-DD")] = None,
    formats: Annotated[str, typer.Option(help="comma-separated: csv,csv-detailed,json,xml,xlsx; "
                                "Call Center CDR: cc-csv,cc-csv-detailed,cc-json,cc-xml,"
                                "cc-xlsx,cc-xlsx-detailed; also: events, feedback")]
    = "csv,csv-detailed,json,xml,xlsx",
) -> None:
    """Simulate a call center and write its PBX exports (deterministic per seed)."""
    from pbxlens import simulate

    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    known = simulate.ALL_FORMATS + simulate.CC_FORMATS + simulate.EXTRA_FORMATS
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise _fail(f"unknown format(s): {', '.join(unknown)}; "
                    f"choose from {', '.join(known)}")
    summary = simulate.generate(out_dir, days=days, calls_per_day=calls_per_day, seed=seed,
                                start=_date(start, "--start"), formats=chosen)
    out.print(f"wrote {summary.calls} calls ({summary.legs} path lines) in "
              f"{summary.seconds:.1f} s to {out_dir}:")
    for f in summary.files:
        out.print(f"  {f}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Load PBX exports (CDR CSV/JSON/XML/XLSX, directory file) into the store."""
    from pbxlens.ingest import ingest_paths

    con = _open(db)
    try:
        if as_json:
            results = ingest_paths(con, paths)
        else:
            results = _ingest_with_progress(con, paths)
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    finally:
        con.close()
    if as_json:
        sys.stdout.write(json.dumps({"files": [r.public() for r in results]}) + "\n")
    else:
        _print_results(results)
    errors = [r for r in results if r.error]
    if errors:
        raise _fail(errors[0].error if len(errors) == 1
                    else f"{len(errors)} files could not be read; first: {errors[0].error}")


def _ingest_with_progress(con, paths):
    """Ingest with a rich bar: files done, and the running step's progress inside DuckDB."""
    import threading

    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from pbxlens.ingest import ingest_paths
    from pbxlens.ingest.sniff import walk

    files = walk(paths)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        overall = bar.add_task(f"{len(files)} files", total=max(len(files), 1))
        step = bar.add_task("", total=100)
        seen: list[str] = []
        stop = threading.Event()

        def note(path: str, stage: str) -> None:
            if path not in seen:
                if seen:
                    bar.advance(overall)
                seen.append(path)
            bar.update(step, description=f"{stage} {Path(path).name}", completed=0)

        def poll() -> None:  # DuckDB reports the running query's progress to any thread
            while not stop.wait(0.2):
                pct = con.query_progress()
                if pct >= 0:
                    bar.update(step, completed=pct)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            results = ingest_paths(con, files, progress=note)
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
def status(db: DbOption = None) -> None:
    """What the store holds: calls, path lines, batches, quarantine, date range."""
    from pbxlens import db as store

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
    for c in ("step", "last batch", "batches behind", "calls behind", "last run s", "error"):
        t3.add_column(c, justify="left" if c in ("step", "error") else "right")
    for s in steps:
        t3.add_row(s.step, str(s.last_batch), f"{s.batches_behind:,}", f"{s.calls_behind:,}",
                   "" if s.seconds is None else f"{s.seconds:.2f}", s.error or "")
    out.print(t3)


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
) -> None:
    """Generate and ingest a sample month when the store is empty, show what it holds, then
    create demo users (printed with their passwords) and serve the web app."""
    from pbxlens import simulate
    from pbxlens.ingest import ingest_paths

    con = _open(db)
    try:
        if con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0:
            today = date.today()
            start = today.replace(day=1) if today.day > 7 else None
            if not (data_dir / "cdr_detailed.csv").exists():
                out.print(f"generating a sample month into {data_dir} ...")
                simulate.generate(data_dir, days=30, calls_per_day=1500, seed=seed,
                                  start=start, formats=["csv-detailed", "events"])
            _print_results(ingest_paths(con, [data_dir]))
    finally:
        con.close()
    status(db)
    if serve_after:
        serve(db=db, host=host, port=port, demo_users=True)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8050,
    threads: Annotated[int, typer.Option(min=1, max=64)] = 8,
    demo_users: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Serve the web app, HTTP API and background jobs (this process becomes the store's writer)."""
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
        run_server(db=db, host=host, port=port, threads=threads, before=before)
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None


@app.command()
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
def report(
    report_id: Annotated[str, typer.Argument(metavar="ID", help="report id, see `pbxlens reports`")],
    db: DbOption = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day (inclusive)")] = None,
    filters: Annotated[list[str] | None, typer.Option(
        "--filter", help="key=value[,value...]; repeatable")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json|csv|xlsx")] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help="write to this file")] = None,
    lang: Annotated[str, typer.Option(help="en|it")] = "en",
    lake: Annotated[Path | None, typer.Option("--lake", help="run over a Parquet lake "
                                              "(export-lake) instead of --db")] = None,
    engine_: Annotated[str, typer.Option("--engine", help="duckdb|spark (spark needs --lake)")
                       ] = "duckdb",
    spark_master: Annotated[str | None, typer.Option("--spark-master", help="Spark master URL "
                                                     "(default local[2])")] = None,
) -> None:
    """Run one report of the catalog and print or export it."""
    from pbxlens.reports import Params, export, get, run
    from pbxlens.reports.filters import parse_filters

    try:
        defn = get(report_id)
    except KeyError:
        raise _fail(f"unknown report {report_id!r}; see `pbxlens reports`") from None
    if fmt not in ("table", "json", "csv", "xlsx"):
        raise _fail(f"--format: expected table, json, csv or xlsx, got {fmt!r}")
    if lang not in ("en", "it"):
        raise _fail(f"--lang: expected en or it, got {lang!r}")
    if fmt == "xlsx" and out_file is None:
        raise _fail("--format xlsx needs --out FILE")
    try:
        params = Params(date_from=_date(date_from, "--from"), date_to=_date(date_to, "--to"),
                        filters=parse_filters(filters or [], defn.filters, report_id), lang=lang)
        params.resolved()
        if engine_ not in defn.options.get("engines", ("duckdb", "spark")):
            raise _fail(f"{report_id} runs on DuckDB only (its SQL has no Spark form yet)")
        from pbxlens.scale.cli import open_reports

        con = open_reports(db, lake, engine_, spark_master)
        result = run(con, report_id, params)
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None
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
            raise _fail(f"--created: expected YYYY-MM-DDThh:mm:ssZ, got {created!r}") from None
    sys.stdout.write(header_line(user, password, domain, salt, nonce=nonce, created=created) + "\n")


@app.command()
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

    con = _open(db)
    try:
        with pbx_api.PbxClient(pbx, user, password, domain, verify=not insecure) as client:
            res = pbx_api.pull(con, client, since=_date(since, "--since"),
                               progress=lambda m: err.print(m, highlight=False))
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    finally:
        con.close()
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

app.add_typer(missed_app, name="missed")
scale_cli.register(app)  # export-lake, backup, restore, retention, rollups-rebuild (issue 11)


def main() -> None:
    try:
        app()
    except PbxlensError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
