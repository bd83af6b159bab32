"""What every `pbxlens` sub-command shares: the one-line error and the date option, so the
main CLI and the sub-apps (scale, views, ...) print the same errors."""

from __future__ import annotations

from datetime import date, datetime

import typer

from pbxlens.console import err


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` to stderr; the caller raises the returned Exit."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def parse_date(value: str | None, name: str) -> date | None:
    """The date of a YYYY-MM-DD option (None stays None), or a one-line error naming it."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise fail(f"{name}: not a date in the form YYYY-MM-DD: {value!r}") from None
