"""`pbxlens missed ...`: the callback queue for scripts (list, book, cancel, assign, flush,
call, history, settings, reconcile). The acting user (`--user`) is a pbxlens user of the
operations store: their role, tenant, extension and privacy right decide what they may do and
see, as in the pages. Requests are named by their token (the lists show it); users with the
privacy right may name an open request by its number too.

Every command works while `pbxlens serve` runs (it runs in the server, on its stores)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table

from pbxlens import PbxlensError
from pbxlens.console import out
from pbxlens.store.server_link import forwardable, open_stores

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Missed calls: callback requests, booking, assignment, flush.")

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store")]
UserOption = Annotated[str, typer.Option("--user", "-u", help="acting pbxlens user (username)")]
KeyArg = Annotated[str, typer.Argument(help="request token (or its number, with the privacy "
                                            "right)")]
COLUMNS = ("token", "call_num", "first_call", "last_call", "num_calls", "num_recalled",
           "last_recalled", "queue", "booked_by", "booked_at", "state", "closure")


def _actor(stores, username: str):
    from pbxlens.missed_calls import sync
    from pbxlens.missed_calls import tables as T
    from pbxlens.missed_calls.actor import Actor
    from pbxlens.store import schema
    from pbxlens.store.users import User

    with T.reading(stores.ops) as c:
        r = c.execute(sa.select(schema.users).where(schema.users.c.username == username)
                      ).mappings().first()
    if r is None or r["disabled"]:
        raise PbxlensError(f"no active pbxlens user {username!r} (create it in the web app)")
    sync.ensure(stores)
    return Actor.of(User.from_row(r))


def _fmt(v) -> str:
    if v is None:
        return ""
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)


def _json(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


@app.command("list")
@forwardable("read")
def list_(user: UserOption,
          view: Annotated[str, typer.Option(
              help="to_call | booked | open | all")] = "to_call",
          filter_: Annotated[list[str] | None, typer.Option("--filter", help="key=value (type, queue, "
                             "source, caller, account_code, first_from, first_to, last_from, "
                             "last_to, recalled_from, recalled_to, num_recalled)")] = None,
          sort: str = "first_call",
          asc: Annotated[bool, typer.Option("--asc", help="oldest / smallest first")] = False,
          limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
          offset: Annotated[int, typer.Option(min=0)] = 0,
          as_json: Annotated[bool, typer.Option("--json")] = False, db: DbOption = None) -> None:
    """One page of the requests of a list, as the pages show them (newest first)."""
    from pbxlens.missed_calls import listing

    filters = {}
    for item in filter_ or []:
        if "=" not in item:
            raise PbxlensError(f"--filter {item!r}: expected key=value")
        k, v = item.split("=", 1)
        filters[k.strip()] = v.strip()
    with open_stores(db) as stores:
        page = listing.list_requests(stores, _actor(stores, user), view, filters, sort,
                                     not asc, limit, offset)
    if as_json:
        sys.stdout.write(json.dumps({"rows": [{k: _json(r.get(k)) for k in COLUMNS}
                                              for r in page.rows], "total": page.total}) + "\n")
        return
    t = Table(*COLUMNS, title=f"{offset + 1}-{offset + len(page.rows)} of {page.total}")
    for r in page.rows:
        t.add_row(*(_fmt(r.get(k)) for k in COLUMNS))
    out.print(t)


@app.command()
@forwardable("jobs")
def book(key: KeyArg, user: UserOption, db: DbOption = None) -> None:
    """Book a request for yourself (fails with "already booked by X")."""
    from pbxlens.missed_calls import operations as op

    with open_stores(db) as stores:
        actor = _actor(stores, user)
        r = op.book(stores, actor, op.find(stores, actor, key))
    out.print(f"{r['call_num']} booked by {r['booked_by']}", highlight=False)


@app.command()
@forwardable("jobs")
def cancel(key: KeyArg, user: UserOption, db: DbOption = None) -> None:
    """Cancel a booking (the booker, or a supervisor)."""
    from pbxlens.missed_calls import operations as op

    with open_stores(db) as stores:
        actor = _actor(stores, user)
        r = op.cancel(stores, actor, op.find(stores, actor, key))
    out.print(f"{r['call_num']}: booking cancelled", highlight=False)


@app.command()
@forwardable("jobs")
def assign(key: KeyArg, operator: Annotated[str, typer.Argument(help="username of the operator")],
           user: UserOption, db: DbOption = None) -> None:
    """Assign a request to an eligible operator (supervisors)."""
    from pbxlens.missed_calls import operations as op

    with open_stores(db) as stores:
        actor = _actor(stores, user)
        r = op.assign(stores, actor, op.find(stores, actor, key), operator)
    out.print(f"{r['call_num']} assigned to {operator}", highlight=False)


@app.command()
@forwardable("jobs")
def flush(keys: Annotated[list[str], typer.Argument(help="request tokens (or numbers)")],
          user: UserOption, db: DbOption = None) -> None:
    """Close requests as forced closure (supervisors)."""
    from pbxlens.missed_calls import operations as op

    with open_stores(db) as stores:
        actor = _actor(stores, user)
        n = op.flush(stores, actor, [op.find(stores, actor, k) for k in keys])
    out.print(f"{n} requests flushed", highlight=False)


@app.command()
@forwardable("jobs")
def call(key: KeyArg, user: UserOption, db: DbOption = None) -> None:
    """Click to call: originate through the PBX when configured; print the tel: link (with
    the privacy right)."""
    from pbxlens.missed_calls import click2call
    from pbxlens.missed_calls import operations as op

    with open_stores(db) as stores:
        actor = _actor(stores, user)
        r = click2call.call(stores, actor, op.find(stores, actor, key),
                            click2call.configured(stores))
    shown = r["tel"] or r["call_num"]
    out.print(f"{shown}" + (f" (PBX call {r['call_uuid']})" if r["originated"] else ""),
              highlight=False)


@app.command()
@forwardable("read")
def history(user: UserOption, number: Annotated[str | None, typer.Option(
                help="only this number (privacy right)")] = None,
            token: Annotated[str | None, typer.Option(help="only this request")] = None,
            db: DbOption = None) -> None:
    """Who did what and when (book, cancel, assign, unassign, flush, dial), newest first."""
    from pbxlens.missed_calls import listing

    with open_stores(db) as stores:
        rows = listing.history(stores, _actor(stores, user), token, number)
    t = Table("when", "who", "action", "number", "detail")
    for h in rows:
        t.add_row(_fmt(h["at_ts"]), h["actor"], h["action"], h["call_num"], h["detail"] or "")
    out.print(t)


@app.command()
@forwardable("jobs")
def settings(user: UserOption, key: Annotated[str | None, typer.Argument()] = None,
             value: Annotated[str | None, typer.Argument()] = None, db: DbOption = None) -> None:
    """Show the settings, or set KEY to VALUE (supervisors)."""
    from pbxlens.missed_calls import operations as op

    with open_stores(db) as stores:
        actor = _actor(stores, user)
        if key is not None:
            if value is None:
                raise PbxlensError("give a VALUE to set")
            op.set_setting(stores, actor, key, value)
        for k, v in op.settings_of(stores).items():
            out.print(f"{k} = {v}", highlight=False)


@app.command("reconcile")
@forwardable("jobs")
def reconcile_(db: DbOption = None) -> None:
    """Rebuild every callback request from the stored CDR, dynamic-routing rows and flushes,
    and synchronize the operations store (a job of the analytics writer)."""
    from pbxlens.missed_calls import sync

    with open_stores(db) as stores:
        r = stores.writer.run("missed-rebuild", "missed calls: rebuild every request",
                              lambda ctx: sync.full(ctx.con, ctx.ops, rebuild=True),
                              created_by="cli")
    out.print(f"{r['requests']:,} requests in {r['seconds']} s", highlight=False)
