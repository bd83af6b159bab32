"""`pbxlens users ...`: the accounts of the web app and the API, from the command line (the first
admin of a new deployment, password resets, API tokens). Works while a server runs."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pbxlens import PbxlensError
from pbxlens.console import err, out
from pbxlens.store import users
from pbxlens.store.server_link import forwardable, open_stores

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Users of the web app and the API (roles, privacy right, extension).")
DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store (its operations "
                                                "store is beside it, or PBXLENS_OPS_URL)")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _by_name(stores, name: str) -> users.User:
    u = next((u for u in users.list_users(stores) if u.username == name), None)
    if u is None:
        raise PbxlensError(f"no user {name!r}")
    return u


@app.command("list")
@forwardable("read")
def list_users(db: DbOption = None) -> None:
    """Every user with role, tenant, extension, privacy right and state."""
    with open_stores(db) as stores:
        rows = users.list_users(stores)
    table = Table("user", "role", "tenant", "extension", "privacy", "language", "state",
                  title="users")
    for u in rows:
        table.add_row(u.username, u.role, u.tenant, u.extension or "", "yes" if u.privacy else "",
                      u.lang, "disabled" if u.disabled else "active")
    out.print(table)


@app.command("add")
@forwardable("read")
def add(
    username: str,
    role: Annotated[str, typer.Option(help="admin | supervisor | finance | operator")],
    db: DbOption = None,
    password: Annotated[str | None, typer.Option(
        envvar="PBXLENS_NEW_PASSWORD", help="at least 8 characters (default: generated and "
        "printed once)")] = None,
    privacy: Annotated[bool, typer.Option("--privacy/--no-privacy",
                                          help="sees full external numbers")] = False,
    tenant: str = "default",
    extension: str | None = None,
    lang: Annotated[str, typer.Option(help="it | en")] = "it",
) -> None:
    """Create a user (the first admin of a new deployment, for instance)."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with open_stores(db) as stores:
            u = users.create_user(stores, username, password, role, privacy=privacy,
                                  tenant=tenant, extension=extension, lang=lang)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"created {u.username} ({u.role})"
              + (f"; password: {password}" if generated else ""), highlight=False)


@app.command("set")
@forwardable("read")
def set_user(
    username: str,
    db: DbOption = None,
    role: str | None = None,
    privacy: Annotated[bool | None, typer.Option("--privacy/--no-privacy")] = None,
    tenant: str | None = None,
    extension: str | None = None,
    lang: str | None = None,
    disabled: Annotated[bool | None, typer.Option("--disabled/--enabled")] = None,
) -> None:
    """Change a user's role, privacy right, tenant, extension, language or state."""
    values = {k: v for k, v in {"role": role, "privacy": privacy, "tenant": tenant,
                                "extension": extension, "lang": lang,
                                "disabled": disabled}.items() if v is not None}
    try:
        with open_stores(db) as stores:
            users.update_user(stores, _by_name(stores, username).id, **values)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"updated {username}: " + (", ".join(f"{k}={v}" for k, v in values.items())
                                         or "nothing to change"), highlight=False)


@app.command("password")
@forwardable("read")
def password_cmd(
    username: str,
    db: DbOption = None,
    password: Annotated[str | None, typer.Option(
        envvar="PBXLENS_NEW_PASSWORD", help="default: generated and printed once")] = None,
) -> None:
    """Set a new password (printed once when generated)."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with open_stores(db) as stores:
            users.set_password(stores, _by_name(stores, username).id, password)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"new password for {username}" + (f": {password}" if generated else ""),
              highlight=False)


@app.command("token")
@forwardable("read")
def token_cmd(username: str, db: DbOption = None) -> None:
    """Issue a new API token (Authorization: Bearer ...), printed once; the old one stops."""
    try:
        with open_stores(db) as stores:
            tok = users.issue_token(stores, _by_name(stores, username).id)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(tok, highlight=False)
