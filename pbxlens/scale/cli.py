"""CLI commands of the scale package: export-lake, backup, restore, retention, rollups."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pbxlens import PbxlensError
from pbxlens.cli_common import fail, parse_date
from pbxlens.store.server_link import forwardable, open_analytics

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store (default: PBXLENS_DB "
                                                "or data/pbxlens.duckdb)")]


@forwardable("read")
def export_lake(
    out: Annotated[Path, typer.Option("--out", help="lake folder")],
    db: DbOption = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day (inclusive)")] = None,
) -> None:
    """Write the store as a Parquet lake partitioned by tenant and month (incremental)."""
    from pbxlens.scale import lake

    try:
        con = open_analytics(db, read_only=True)
        st = lake.export(con, out, parse_date(date_from, "--from"), parse_date(date_to, "--to"))
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    sys.stdout.write(json.dumps({"out": str(out), "tables": st.tables,
                                 "partitions_seen": st.partitions_seen,
                                 "partitions_written": st.partitions_written,
                                 "rows_written": st.rows_written,
                                 "seconds": round(st.seconds, 3)}) + "\n")


@forwardable("exclusive")
def backup_cmd(
    out: Annotated[Path, typer.Option("--out", help="new folder for the snapshot")],
    db: DbOption = None,
    server: Annotated[str | None, typer.Option(
        "--server", help="when `pbxlens serve` holds the store: its URL")] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="PBXLENS_API_TOKEN",
                                              help="admin API token for --server")] = None,
) -> None:
    """Consistent snapshot of the store (through the server when it is running)."""
    from pbxlens.scale import backup
    from pbxlens.store import analytics as store

    try:
        if server:
            res = backup.request_server_backup(server, token or "", out.resolve())
            tables = res["tables"]
        else:
            try:
                con = open_analytics(db, read_only=True)
            except store.StoreLockedError as exc:
                raise store.StoreLockedError(f"{exc}; or pass --server URL --token T to let "
                                             "the server take the snapshot") from None
            tables = backup.backup(con, out)["tables"]
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    sys.stdout.write(json.dumps({"out": str(out), "tables": len(tables),
                                 "rows": sum(v["rows"] for v in tables.values())}) + "\n")


def restore_cmd(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="a backup folder")],
    db: Annotated[Path, typer.Option("--db", help="the new store file")],
) -> None:
    """Restore a backup into a new store file and verify every table."""
    from pbxlens.scale import backup

    try:
        got = backup.restore(folder, db)
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    sys.stdout.write(json.dumps({"db": str(db), "tables": len(got),
                                 "rows": sum(v["rows"] for v in got.values())}) + "\n")


@forwardable("exclusive")
def retention_cmd(
    db: DbOption = None,
    months: Annotated[int | None, typer.Option(help="months kept (default: setting "
                                                    "retention_months, 25)")] = None,
    lake_dir: Annotated[Path | None, typer.Option("--lake", help="export here first "
                                                  "(default: setting lake)")] = None,
    backups: Annotated[list[Path] | None, typer.Option("--backup", help="a backup that holds "
                                                       "the old months; repeatable")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
) -> None:
    """Remove facts older than the retention, only where a lake or backup holds them."""
    from pbxlens.scale import retention

    try:
        con = open_analytics(db)
        res = retention.apply(con, months=months, lake=lake_dir, backups=list(backups or []),
                              dry_run=dry_run)
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None
    sys.stdout.write(json.dumps(res.__dict__) + "\n")


@forwardable("exclusive")
def rollups_cmd(db: DbOption = None) -> None:
    """Rebuild the hourly rollups, the coincidence day summaries and the rating keys (after
    the post-batch steps are through every batch)."""
    from pbxlens import pipeline
    from pbxlens.billing import rating_keys
    from pbxlens.reports import coincidence_days
    from pbxlens.scale import rollups

    try:
        con = open_analytics(db)
        pipeline.rebuild(pipeline.StepContext(con), (
            rollups.rebuild, coincidence_days.rebuild, rating_keys.rebuild))
    except PbxlensError as exc:
        raise fail(str(exc), exc.exit_code) from None


def register(app: typer.Typer) -> None:
    app.command("export-lake")(export_lake)
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.command("retention")(retention_cmd)
    app.command("rollups-rebuild")(rollups_cmd)


def open_reports(db: Path | None, lake_dir: Path | None, engine: str,
                 spark_master: str | None):
    """The connection a report runs on: the store, DuckDB over a lake, or Spark over a lake."""

    if engine not in ("duckdb", "spark"):
        raise PbxlensError(f"--engine: expected duckdb or spark, got {engine!r}")
    if engine == "spark":
        if lake_dir is None:
            raise PbxlensError("--engine spark needs --lake DIR")
        from pbxlens.scale.spark import SparkEngine

        return SparkEngine(lake_dir, master=spark_master)
    if lake_dir is not None:
        if db is not None:
            raise PbxlensError("give --db or --lake, not both")
        from pbxlens.scale import lake

        return lake.open_duckdb(lake_dir)
    return open_analytics(db, read_only=True)
