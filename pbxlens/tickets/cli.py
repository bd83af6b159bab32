"""`pbxlens tickets ...`: import/export of companies and tickets, list, lookup of a number,
and the SMTP sender of the notification outbox. The CLI sees the whole tenant (admin rights,
full numbers). Every command opens the stores with `open_stores`, and is `forwardable`: while
`pbxlens serve` runs, the server runs it on its own stores and the output is the same. Each
command is one short transaction of the operations store (an import: one, with a savepoint
per row); none writes DuckDB, so they forward in mode "read"."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pbxlens.console import out
from pbxlens.store.server_link import forwardable, open_stores
from pbxlens.store.users import User

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Tickets and call trace: companies, tickets, imports, exports, notifications.",
)

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store (the operations store "
                                                "is beside it, or PBXLENS_OPS_URL)")]
TenantOption = Annotated[str, typer.Option(help="tenant")]
StrictOption = Annotated[bool, typer.Option("--strict", help="any rejected row writes nothing")]


def _cli_user(tenant: str) -> User:
    return User(id=0, username="cli", role="admin", privacy=True, tenant=tenant)


def _report(rep, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(rep.as_dict()) + "\n")
        return
    out.print(f"{rep.rows} rows: {rep.imported} imported, {len(rep.rejected)} rejected", highlight=False)
    for line, reason in rep.rejected:
        out.print(f"  line {line}: {reason}", highlight=False)


def _import(kind: str, file: Path, db: Path | None, tenant: str, strict: bool, as_json: bool) -> None:
    from pbxlens.tickets import files

    fn = files.import_companies if kind == "companies" else files.import_tickets
    try:
        with open_stores(db) as stores, stores.ops_write() as c:
            rep = fn(c, file, tenant=tenant, strict=strict)
    except files.StrictImportError as exc:
        _report(exc.report, as_json)
        raise typer.Exit(1) from None
    _report(rep, as_json)
    if rep.rejected:
        raise typer.Exit(1)


@app.command("import-companies")
@forwardable("read")
def import_companies(
    file: Path,
    db: DbOption = None,
    tenant: TenantOption = "default",
    strict: StrictOption = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Companies, contacts and their numbers from XLSX/CSV (exit 1 when rows were rejected)."""
    _import("companies", file, db, tenant, strict, as_json)


@app.command("export-companies")
@forwardable("read")
def export_companies(file: Path, db: DbOption = None, tenant: TenantOption = "default") -> None:
    from pbxlens.tickets import files

    with open_stores(db) as stores, stores.ops_read() as c:
        n = files.export_companies(c, file, tenant=tenant)
    out.print(f"{n} rows written to {file}", highlight=False)


@app.command("import")
@forwardable("read")
def import_tickets(
    file: Path,
    db: DbOption = None,
    tenant: TenantOption = "default",
    strict: StrictOption = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tickets from XLSX/CSV, validated row by row (exit 1 when rows were rejected)."""
    _import("tickets", file, db, tenant, strict, as_json)


def _rows(db, tenant, status, search):
    from pbxlens.tickets import listing

    with open_stores(db) as stores, stores.ops_read() as c:
        return listing.rows(c, _cli_user(tenant), listing.Filters(status=status or [], text=search))


@app.command("export")
@forwardable("read")
def export_tickets(
    file: Path,
    db: DbOption = None,
    tenant: TenantOption = "default",
    status: Annotated[list[str] | None, typer.Option(help="repeatable")] = None,
    search: Annotated[str | None, typer.Option(help="number, title or description")] = None,
) -> None:
    """The ticket list's visible columns as XLSX or CSV (by the file's suffix)."""
    from pbxlens.tickets import files

    n = files.export_tickets(_rows(db, tenant, status, search), file)
    out.print(f"{n} tickets written to {file}", highlight=False)


@app.command("list")
@forwardable("read")
def list_tickets(
    db: DbOption = None,
    tenant: TenantOption = "default",
    status: Annotated[list[str] | None, typer.Option(help="repeatable")] = None,
    search: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    from pbxlens.tickets.tracking import format_hm

    rows = _rows(db, tenant, status, search)
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
        return
    t = Table("number", "title", "final customer", "status", "priority", "type", "tracking")
    for r in rows:
        t.add_row(
            r["number"],
            r["title"],
            r["final_customer"],
            r["status"],
            r["priority"],
            r["type"],
            format_hm(r["tracking_s"]),
        )
    out.print(t)


@app.command("lookup")
@forwardable("read")
def lookup(
    number: str,
    db: DbOption = None,
    tenant: TenantOption = "default",
    direction: Annotated[str, typer.Option(help="in | out")] = "in",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What the trace mask shows for NUMBER: company, contact, recent calls, open tickets."""
    from pbxlens.tickets import trace

    with open_stores(db) as stores:
        m = trace.mask(
            stores,
            _cli_user(tenant),
            direction=direction,
            caller=number if direction == "in" else None,
            called=number if direction == "out" else None,
        )
    side = m.customer
    d = {
        "number": side.match.number,
        "company": (side.match.company or {}).get("name"),
        "contact": (side.match.contact or {}).get("name"),
        "blacklisted": side.blacklisted,
        "financial": {k: str(v) for k, v in m.financial.items()},
        "recent_calls": m.recent_calls,
        "open_tickets": [
            {"number": t["number"], "title": t["title"], "status": t["status"]} for t in m.open_tickets
        ],
    }
    if as_json:
        sys.stdout.write(json.dumps(d, default=str) + "\n")
        return
    out.print(
        f"{d['number']}: {d['company'] or 'ND'} / {d['contact'] or '-'}"
        f"{' (blacklisted)' if d['blacklisted'] else ''}",
        highlight=False,
    )
    for t in d["open_tickets"]:
        out.print(f"  {t['number']} {t['status']} {t['title']}", highlight=False)
    out.print(f"  {len(d['recent_calls'])} recent calls", highlight=False)


@app.command("send-outbox")
@forwardable("read")
def send_outbox(db: DbOption = None) -> None:
    """Send the pending notifications by SMTP (setting smtp_enabled)."""
    from pbxlens.tickets import mailer

    with open_stores(db) as stores:
        res = mailer.send_pending(stores)
    if not res.enabled:
        out.print("SMTP is disabled (smtp_enabled = false): the outbox keeps the notices")
        return
    out.print(f"{res.sent} sent to {res.recipients} recipients, {res.failed} failed", highlight=False)


config_app = typer.Typer(no_args_is_help=True, help="Types, areas and the notification matrix.")
app.add_typer(config_app, name="config")


def _write(db: Path | None, fn):
    """`fn(conn)` in one transaction of the operations store."""
    with open_stores(db) as stores, stores.ops_write() as c:
        return fn(c)


@config_app.command("default-types")
@forwardable("read")
def default_types(
    types: Annotated[str, typer.Argument(help="comma-separated type codes")], db: DbOption = None
) -> None:
    """The types a company without its own assignment may use (B.4)."""
    from pbxlens.tickets import companies

    _write(db, lambda c: companies.set_default_types(c, [x.strip() for x in types.split(",") if x.strip()]))


@config_app.command("company-types")
@forwardable("read")
def company_types(
    company: str,
    types: Annotated[str, typer.Argument(help="comma-separated; empty = defaults")],
    db: DbOption = None,
    tenant: TenantOption = "default",
) -> None:
    """The types COMPANY may use (B.4 "Tipologia per Azienda")."""
    from pbxlens.tickets import TicketError, companies

    def run(c):
        comp = companies.company_by_name(c, company, tenant)
        if comp is None:
            raise TicketError(f"no company {company!r}")
        companies.set_company_types(c, comp["id"], [x.strip() for x in types.split(",") if x.strip()])

    _write(db, run)


@config_app.command("type-area")
@forwardable("read")
def type_area(
    type_code: str, area: Annotated[str, typer.Argument(help="area; empty = none")], db: DbOption = None
) -> None:
    """Assign a type to an area (B.5): its tickets are visible to that area only."""
    from pbxlens.tickets import TicketError
    from pbxlens.tickets import schema as S

    def run(c):
        if area and not c.execute(S.areas.select().where(S.areas.c.name == area)).first():
            c.execute(S.areas.insert().values(name=area))
        n = c.execute(S.types.update().where(S.types.c.code == type_code).values(area=area or None)).rowcount
        if not n:
            raise TicketError(f"unknown type {type_code!r}")

    _write(db, run)


@config_app.command("notify")
@forwardable("read")
def notify_matrix(
    channel: Annotated[str, typer.Argument(help="ticket | support | email")],
    event: Annotated[str, typer.Argument(help="insert | reply")],
    roles: Annotated[
        str,
        typer.Argument(
            help="comma-separated: owner, in_charge, assigned, "
            "company, contact, cc, shared_users, shared_areas"
        ),
    ],
    db: DbOption = None,
) -> None:
    """Set one column of the subscription matrix (B.6)."""
    from pbxlens.tickets import notify

    _write(
        db,
        lambda c: notify.set_subscriptions(
            c, channel, event, [x.strip() for x in roles.split(",") if x.strip()]
        ),
    )


@config_app.command("blacklist")
@forwardable("read")
def notify_blacklist(
    kind: Annotated[str, typer.Argument(help="out | in | opening_sender")],
    entries: Annotated[str, typer.Argument(help="comma-separated addresses or domains")],
    db: DbOption = None,
) -> None:
    """Replace a notification blacklist (B.6)."""
    from pbxlens.tickets import notify

    _write(db, lambda c: notify.set_blacklist(c, kind, entries.split(",")))


@config_app.command("user")
@forwardable("read")
def user_profile(
    username: str,
    email: Annotated[str | None, typer.Option()] = None,
    areas: Annotated[str | None, typer.Option(help="comma-separated areas")] = None,
    db: DbOption = None,
) -> None:
    """A user's notification address and areas."""
    import sqlalchemy as sa

    from pbxlens.store import schema as W
    from pbxlens.tickets import TicketError, notify

    def run(c):
        uid = c.execute(sa.select(W.users.c.id).where(W.users.c.username == username)).scalar()
        if uid is None:
            raise TicketError(f"no user {username!r}")
        notify.set_user(
            c,
            uid,
            email=email,
            areas=[x.strip() for x in areas.split(",") if x.strip()] if areas is not None else None,
        )

    _write(db, run)
