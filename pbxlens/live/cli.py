"""`pbxlens simulate-live`: post the simulator's events of today to a running server, so the
wallboard moves (pbxlens.live.feed); `pbxlens live-check DAY`: today's live counters of a day
against its CDR (pbxlens.live.consistency)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pbxlens.console import out
from pbxlens.store.server_link import forwardable, open_stores


def simulate_live(
    url: Annotated[str, typer.Option(help="the server's events endpoint")] =
    "http://127.0.0.1:8050/api/events",
    token: Annotated[str | None, typer.Option(
        envvar="PBXLENS_WEBHOOK_TOKEN_EVENTS", help="the events token (default: the "
        "environment's PBXLENS_WEBHOOK_TOKEN_EVENTS)")] = None,
    speed: Annotated[float, typer.Option(min=0.01, help="simulated seconds per second")] = 1.0,
    start: Annotated[str | None, typer.Option(
        "--from", help="simulated time of day to start at, HH:MM (default: now)")] = None,
    minutes: Annotated[float | None, typer.Option(min=0, help="simulated minutes to post "
                                                  "(default: to the end of the day)")] = None,
    seed: int = 1,
    calls_per_day: Annotated[int | None, typer.Option(min=1)] = None,
    scenario: str | None = None,
) -> None:
    """Post the simulator's call, queue and agent events of today to a running server, in real
    time or SPEED times faster (each event stamped with the instant it is posted)."""
    from pbxlens.live import feed

    day = feed.today()
    events = feed.day_events(day, seed=seed, calls_per_day=calls_per_day, scenario=scenario)
    begin = feed.start_of(day, start)
    todo = feed.window(events, begin, minutes)
    out.print(f"posting {len(todo):,} events to {url} at {speed:g}x (Ctrl-C to stop)")
    post, client = feed.http_poster(url, token)
    try:
        res = feed.feed(todo, begin, post, speed=speed)
    except KeyboardInterrupt:
        return
    finally:
        client.close()
    out.print(f"posted {res.posted:,} events in {res.requests:,} requests")


@forwardable("jobs")
def live_check(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    db: Annotated[Path | None, typer.Option(help="the analytics store")] = None,
) -> None:
    """Compare a day's live counters (kept from the PBX's events) with its CDR, per queue."""
    from pbxlens.live import consistency

    d = date.fromisoformat(day)
    with open_stores(db) as stores:
        res = stores.writer.run("live-check", f"live counters of {d}", consistency.check_job(d))
    out.print(f"{res['day']}: {res['queues']} queues, "
              + ("no difference" if res["ok"] else f"{len(res['differences'])} differences"))
    for x in res["differences"]:
        out.print(f"  {x['tenant']} {x['queue']} {x['field']}: live {x['live']}, "
                  f"CDR {x['cdr']}")


def register(app: typer.Typer) -> None:
    app.command("simulate-live")(simulate_live)
    app.command("live-check")(live_check)
