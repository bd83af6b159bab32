"""`pbxlens missed ...`: the callback queue for scripts (list, book, cancel, assign, flush,
call, history, settings, reconcile). Users are the web app's users (`web_users`): their role,
tenant and extension decide what they may do, as in the pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pbxlens import PbxlensError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Missed calls: callback requests, booking, assignment, flush.")
out = Console()

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store")]
UserOption = Annotated[str, typer.Option("--user", "-u", help="acting pbxlens user (username)")]


def _db(db: Path | None):
    from pbxlens.missed_calls import operations as op
    from pbxlens.store import analytics as store

    return op.Db.from_connection(store.connect(db))


def _user(d, username: str):
    from pbxlens.missed_calls import operations as op

    with d.cursor() as cur:
        r = cur.execute("SELECT username, role, tenant, extension, disabled FROM web_users "
                        "WHERE username = ?", [username]).fetchone()
    if r is None or r[4]:
        raise PbxlensError(f"no active pbxlens user {username!r} (create it in the web app)")
    return op.Actor(r[0], r[1], r[2], r[3])


def _fmt(v) -> str:
    if v is None:
        return ""
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)


COLUMNS = ("request_key", "call_num", "first_call", "last_call", "num_calls", "num_recalled",
           "last_recalled", "queue", "booked_by", "booked_at", "state", "closure")


@app.command("list")
def list_(user: UserOption,
          view: Annotated[str, typer.Option(
              help="to_call | booked | assign | flush | open | all")] = "to_call",
          filter_: Annotated[list[str] | None, typer.Option("--filter", help="key=value (type, queue, "
                             "source, caller, account_code, first_from, first_to, last_from, "
                             "last_to, recalled_from, recalled_to, num_recalled)")] = None,
          sort: str = "first_call", desc: bool = False,
          as_json: Annotated[bool, typer.Option("--json")] = False, db: DbOption = None) -> None:
    """The requests of one grid, as the pages show them."""
    from pbxlens.missed_calls import operations as op

    d = _db(db)
    filters = {}
    for item in filter_ or []:
        if "=" not in item:
            raise PbxlensError(f"--filter {item!r}: expected key=value")
        k, v = item.split("=", 1)
        filters[k.strip()] = v.strip()
    rows = op.list_requests(d, _user(d, user), view, filters, sort, desc)
    if as_json:
        typer.echo(json.dumps([{k: _fmt(r.get(k)) if not isinstance(r.get(k), int) else r[k]
                                for k in COLUMNS} for r in rows], indent=1))
        return
    t = Table(*COLUMNS[1:])
    for r in rows:
        t.add_row(*(_fmt(r.get(k)) for k in COLUMNS[1:]))
    out.print(t)


@app.command()
def book(key: Annotated[str, typer.Argument(help="request key or the caller number")],
         user: UserOption, db: DbOption = None) -> None:
    """Book a request for yourself (fails with "already booked by X")."""
    from pbxlens.missed_calls import operations as op

    d = _db(db)
    actor = _user(d, user)
    r = op.book(d, actor, op.get_request(d, actor.tenant, key)["request_key"])
    out.print(f"{r['call_num']} booked by {r['booked_by']}", highlight=False)


@app.command()
def cancel(key: str, user: UserOption, db: DbOption = None) -> None:
    """Cancel a booking (the booker, or a supervisor)."""
    from pbxlens.missed_calls import operations as op

    d = _db(db)
    actor = _user(d, user)
    r = op.cancel(d, actor, op.get_request(d, actor.tenant, key)["request_key"])
    out.print(f"{r['call_num']}: booking cancelled", highlight=False)


@app.command()
def assign(key: str, operator: Annotated[str, typer.Argument(help="username of the operator")],
           user: UserOption, db: DbOption = None) -> None:
    """Assign a request to an eligible operator (supervisors)."""
    from pbxlens.missed_calls import operations as op

    d = _db(db)
    actor = _user(d, user)
    op.assign(d, actor, op.get_request(d, actor.tenant, key)["request_key"], _user(d, operator))
    out.print(f"assigned to {operator}", highlight=False)


@app.command()
def flush(keys: Annotated[list[str], typer.Argument(help="request keys or numbers")],
          user: UserOption, db: DbOption = None) -> None:
    """Close requests as forced closure (supervisors)."""
    from pbxlens.missed_calls import operations as op

    d = _db(db)
    actor = _user(d, user)
    resolved = [op.get_request(d, actor.tenant, k)["request_key"] for k in keys]
    out.print(f"{op.flush(d, actor, resolved)} requests flushed", highlight=False)


@app.command()
def call(key: str, user: UserOption, db: DbOption = None) -> None:
    """Click to call: print the tel: link; originate through the PBX when configured."""
    from pbxlens.missed_calls import click2call

    d = _db(db)
    r = click2call.call(d, _user(d, user), key, click2call.configured(d))
    out.print(f"{r['tel']}" + (f" (PBX call {r['call_uuid']})" if r["originated"] else ""),
              highlight=False)


@app.command()
def history(user: UserOption, number: Annotated[str | None, typer.Option()] = None,
            db: DbOption = None) -> None:
    """Who did what and when (book, cancel, assign, flush, dial)."""
    from pbxlens.missed_calls import operations as op

    d = _db(db)
    t = Table("when", "who", "action", "number", "detail")
    for h in op.history(d, _user(d, user).tenant, number):
        t.add_row(_fmt(h["at_ts"]), h["actor"], h["action"], h["call_num"], h["detail"] or "")
    out.print(t)


@app.command()
def settings(user: UserOption, key: Annotated[str | None, typer.Argument()] = None,
             value: Annotated[str | None, typer.Argument()] = None, db: DbOption = None) -> None:
    """Show the settings, or set KEY to VALUE (supervisors)."""
    from pbxlens.missed_calls import operations as op
    from pbxlens.missed_calls import settings as ms

    d = _db(db)
    actor = _user(d, user)
    if key is not None:
        if value is None:
            raise PbxlensError("give a VALUE to set")
        op.set_setting(d, actor, key, value)
    with d.cursor() as cur:
        for k, v in ms.load(cur).items():
            out.print(f"{k} = {v}", highlight=False)


@app.command("reconcile")
def reconcile_(db: DbOption = None) -> None:
    """Rebuild the callback requests from the stored CDR, dynamic-routing rows and flushes."""
    from pbxlens.missed_calls import reconcile
    from pbxlens.store import analytics as store

    con = store.connect(db)
    con.execute("BEGIN TRANSACTION")
    r = reconcile.rebuild_all(con)
    con.execute("COMMIT")
    out.print(f"{r['requests']:,} requests in {r['seconds']} s", highlight=False)
