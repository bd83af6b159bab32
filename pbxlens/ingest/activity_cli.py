"""`pbxlens activity ...`: maintenance of the agent activity facts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pbxlens.console import out
from pbxlens.store.server_link import forwardable, open_analytics

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Agent activity facts (queue-member events, talk pieces).")

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store")]


@app.command()
@forwardable("exclusive")
def rebuild(db: DbOption = None) -> None:
    """Recompute every activity fact from pbx_events and agent_legs, in one transaction
    (stores whose CDR was loaded before the activity facts existed, or repairs)."""
    from pbxlens import pipeline
    from pbxlens.ingest import activity

    con = open_analytics(db)
    try:
        pipeline.rebuild(pipeline.StepContext(con), (activity.rebuild,))
        n = con.execute("SELECT (SELECT count(*) FROM agent_intervals),"
                        " (SELECT count(*) FROM agent_activity),"
                        " (SELECT count(*) FROM agent_talk)").fetchone()
    finally:
        con.close()
    out.print(f"{n[0]} intervals, {n[1]} activity pieces, {n[2]} talk pieces")
