"""`pbxlens views list|run` and `pbxlens schedules list|run-due` (the latter for deployments that
drive schedules from cron instead of `pbxlens serve`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.console import err, out
from pbxlens.store.server_link import forwardable, open_stores

views_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="Saved views: a report with its filters and period, by name.")
schedules_app = typer.Typer(add_completion=False, no_args_is_help=True,
                            help="Scheduled deliveries of saved views.")

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store (default: PBXLENS_DB "
                                                "or data/pbxlens.duckdb)")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _table(*names: str) -> Table:
    """A table that wraps its cells at 80 columns instead of cutting them."""
    table = Table()
    for n in names:
        table.add_column(n, overflow="fold")
    return table


def _local(instant: datetime | None) -> str:
    if instant is None:
        return ""
    return instant.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


JsonOption = Annotated[bool, typer.Option("--json", help="one JSON object on stdout")]


def _print_json(key: str, rows: list[dict]) -> None:
    import json
    import sys

    sys.stdout.write(json.dumps({key: rows}, default=str, ensure_ascii=False) + "\n")


@views_app.command("list")
@forwardable("read")
def list_views(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every saved view: id, name, owner, report, period, filters, shared."""
    from pbxlens.views import saved

    try:
        with open_stores(db) as stores:
            rows = saved.all_views(stores)
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    if as_json:
        _print_json("views", [{"id": v.id, "name": v.name, "owner": v.owner_name,
                               "report": v.report_id, "period": v.period,
                               "from": v.date_from, "to": v.date_to, "filters": v.filters,
                               "shared": v.shared, "url": v.url} for v in rows])
        return
    table = _table("id", "name", "owner", "report", "period", "filters", "shared")
    for v in rows:
        table.add_row(str(v.id), v.name, v.owner_name, v.report_id, v.period_label("en"),
                      " ".join(f"{k}={','.join(x)}" for k, x in v.filters.items()),
                      "yes" if v.shared else "no")
    out.print(table)


@views_app.command("run")
@forwardable("read")
def run_view(
    name: Annotated[str, typer.Argument(metavar="NAME", help="view name or id")],
    file_format: Annotated[str, typer.Option("--format", help="xlsx|csv|pdf")] = "xlsx",
    out_file: Annotated[Path | None, typer.Option("--out", help="file to write (default: the "
                                                  "view's file name here)")] = None,
    user: Annotated[str | None, typer.Option(help="run as this user (default: the view's "
                                             "owner): their role, tenant and privacy mask")]
    = None,
    on: Annotated[str | None, typer.Option("--on", help="the day relative periods are "
                                           "counted from, YYYY-MM-DD (default: today)")] = None,
    lang: Annotated[str | None, typer.Option(help="en|it (default: the user's)")] = None,
    db: DbOption = None,
) -> None:
    """Run a saved view as its owner and write it as XLSX, CSV or PDF."""
    from pbxlens.reports import periods
    from pbxlens.store import users
    from pbxlens.views import render, saved

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise _fail(f"--on: not a date YYYY-MM-DD: {on!r}") from None
    if lang not in (None, "en", "it"):
        raise _fail(f"--lang: expected en or it, got {lang!r}")
    try:
        with open_stores(db) as stores:
            view = saved.find(stores, name)
            who = _user(stores, user) if user else users.get_user(stores, view.owner)
            if who is None:
                raise PbxlensError(f"the owner of view {view.id} no longer exists: give --user")
            today = day or periods.local_day(datetime.now(UTC), get_settings().timezone)
            done = render.render_view(stores, view, who, render.check_format(file_format),
                                      today=today, lang=lang)
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    target = out_file or Path(done.attachment.filename)
    target.write_bytes(done.attachment.data)
    err.print(f"wrote {target} ({len(done.attachment.data):,} bytes): {done.applied}",
              highlight=False)


def _user(stores, username: str):
    from pbxlens.store import users

    for u in users.list_users(stores):
        if u.username == username:
            return u
    raise PbxlensError(f"no user {username!r}")


@schedules_app.command("list")
@forwardable("read")
def list_schedules(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every schedule: view, owner, recurrence, format, recipients, next run (PBX time)."""
    from pbxlens.store import users
    from pbxlens.views import saved, schedules

    try:
        with open_stores(db) as stores:
            rows = schedules.listing(stores)
            names = {v.id: v.name for v in saved.all_views(stores)}
            owners = {u.id: u.username for u in users.list_users(stores)}
            last = {s.id: (schedules.runs(stores, s.id, limit=1) or [None])[0] for s in rows}
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    if as_json:
        _print_json("schedules", [{
            "id": s.id, "view": names.get(s.view_id), "view_id": s.view_id,
            "owner": owners.get(s.owner), "frequency": s.frequency, "weekday": s.weekday,
            "month_day": s.month_day, "at": s.at_time, "format": s.format,
            "recipients": s.recipients, "enabled": s.enabled, "next_due_at": s.next_due_at,
            "last_run": last[s.id]} for s in rows])
        return
    table = _table("id", "view", "owner", "when", "format", "to", "next", "last run", "state")
    for s in rows:
        when = {"daily": f"daily {s.at_time}", "weekly": f"weekly day {s.weekday} {s.at_time}",
                "monthly": f"monthly day {'last' if s.month_day == -1 else s.month_day} "
                           f"{s.at_time}"}[s.frequency]
        to = len(s.recipients.get("users") or []) + len(s.recipients.get("emails") or [])
        run = last[s.id]
        table.add_row(str(s.id), names.get(s.view_id, str(s.view_id)),
                      owners.get(s.owner, str(s.owner)), when, s.format, str(to),
                      _local(s.next_due_at) if s.enabled else "paused",
                      _local(run["due_at"]) if run else "", run["state"] if run else "")
    out.print(table)


@schedules_app.command("run-due")
@forwardable("read")
def run_due(
    send: Annotated[bool, typer.Option("--send/--no-send", help="also send the outbox "
                                       "(one pass)")] = True,
    db: DbOption = None,
) -> None:
    """Run the schedules that are due (each once, however late), then send what they queued."""
    from pbxlens import delivery
    from pbxlens.views import schedules

    try:
        with open_stores(db) as stores:
            ran = schedules.run_due(stores)
            sent = delivery.send_pending(stores) if send else None
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    out.print(f"{ran.runs} schedule run(s), {ran.queued} message(s) queued", highlight=False)
    for f in ran.failed:
        err.print(f"[red]failed:[/red] {f}", highlight=False, soft_wrap=True)
    if sent is not None:
        out.print(f"sent {sent.sent}, retrying {sent.retried}, failed {sent.failed}",
                  highlight=False)
        for e in sent.errors:
            err.print(f"[red]not delivered:[/red] {e}", highlight=False, soft_wrap=True)
    if ran.failed or (sent is not None and sent.failed):
        raise typer.Exit(1)
