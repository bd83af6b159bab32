"""CLI of definitions: `pbxlens definitions`, `pbxlens calendars` (per-queue service levels,
business hours), `pbxlens drill` (the calls behind a report cell), `pbxlens journeys` /
`pbxlens journey` (calls and their paths) and `pbxlens staffing` (Erlang C / A plans).
Thin: parse, call the modules, print with rich; they work while a server runs."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pbxlens import PbxlensError
from pbxlens.console import err, out
from pbxlens.store.server_link import forwardable, open_analytics, open_stores

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store (its operations "
                                                "store is beside it, or PBXLENS_OPS_URL)")]
TenantOption = Annotated[str, typer.Option("--tenant", help="tenant (PBX domain)")]
FromOption = Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")]
ToOption = Annotated[str | None, typer.Option("--to", help="last day (inclusive)")]

definitions_app = typer.Typer(add_completion=False, no_args_is_help=True,
                              help="Per-queue service-level definitions.")
calendars_app = typer.Typer(add_completion=False, no_args_is_help=True,
                            help="Business-hours calendars: opening hours, holidays, closures.")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise _fail(f"{name}: not a date in the form YYYY-MM-DD: {value!r}") from None


def _range(d_from: str | None, d_to: str | None) -> tuple[date, date]:
    from pbxlens.reports import Params

    try:
        return Params(date_from=_day(d_from, "--from"), date_to=_day(d_to, "--to")).resolved()
    except PbxlensError as exc:
        raise _fail(str(exc)) from None


# ----------------------------------------------------------------------------- definitions


@definitions_app.command("list")
@forwardable("read")
def definitions_list(db: DbOption = None, tenant: TenantOption = "default") -> None:
    """The default definition and every queue's own."""
    from pbxlens.reports import definitions

    with open_stores(db) as stores:
        rows = definitions.list_definitions(stores, tenant)
    d = definitions.default()
    table = Table("queue", "T (s)", "target %", "variant", "short abandon (s)",
                  title="service-level definitions")
    table.add_row("(default)", str(d.threshold_s), str(d.target_pct), d.variant,
                  str(d.short_abandon_s))
    for x in rows:
        table.add_row(x.qkey, str(x.threshold_s), str(x.target_pct), x.variant,
                      str(x.short_abandon_s))
    out.print(table)


@definitions_app.command("set")
@forwardable("jobs")
def definitions_set(
    queue: Annotated[str, typer.Argument(help="queue id (else name)")],
    db: DbOption = None, tenant: TenantOption = "default",
    threshold: Annotated[int | None, typer.Option("--threshold", help="T: answered within T "
                                                  "seconds")] = None,
    target: Annotated[int | None, typer.Option("--target", help="target, percent")] = None,
    variant: Annotated[str | None, typer.Option(
        "--variant", help="abandon_aware | offered | answered | offered_no_short")] = None,
    short: Annotated[int | None, typer.Option("--short-abandon", help="S: abandons in less "
                                              "than S seconds are short")] = None,
) -> None:
    """Give a queue its own definition (unset values: the queue's current ones)."""
    from pbxlens.reports import definitions

    try:
        with open_stores(db) as stores:
            cur = definitions.get_definition(stores, tenant, queue)
            d = definitions.set_definition(
                stores, tenant, queue,
                threshold_s=cur.threshold_s if threshold is None else threshold,
                target_pct=cur.target_pct if target is None else target,
                variant=cur.variant if variant is None else variant,
                short_abandon_s=cur.short_abandon_s if short is None else short, by="cli")
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"{queue}: {d.explain()}")


@definitions_app.command("delete")
@forwardable("jobs")
def definitions_delete(queue: str, db: DbOption = None, tenant: TenantOption = "default") -> None:
    """Put a queue back on the default definition."""
    from pbxlens.reports import definitions

    with open_stores(db) as stores:
        found = definitions.delete_definition(stores, tenant, queue)
    out.print(f"{queue}: {'back to the default' if found else 'had no definition of its own'}")


# ----------------------------------------------------------------------------- calendars


@calendars_app.command("list")
@forwardable("read")
def calendars_list(db: DbOption = None, tenant: TenantOption = "default") -> None:
    """Every calendar: hours, holidays, closures, and the queues that follow it."""
    from pbxlens.reports import calendars

    with open_stores(db) as stores:
        cals = calendars.list_calendars(stores, tenant)
        assigned = calendars.assignments(stores, tenant)
    table = Table("id", "name", "country", "hours", "holidays", "closures", "assigned to",
                  title="calendars")
    for c in cals:
        who = ", ".join(q or "(tenant)" for q, cid in sorted(assigned.items()) if cid == c.id)
        table.add_row(str(c.id), c.name, c.country + (f"/{c.subdiv}" if c.subdiv else ""),
                      calendars.format_hours(c.hours),
                      ", ".join(f"{d:02d}/{m:02d} {n}".strip() for m, d, n in c.holidays),
                      ", ".join(f"{a}..{b} {n}".strip() for a, b, n in c.closures), who)
    out.print(table)


@calendars_app.command("add")
@forwardable("jobs")
def calendars_add(
    name: str,
    hours: Annotated[str, typer.Option("--hours", help="e.g. 'mon-fri 08:30-13:00 "
                                       "14:00-18:00; sat 09:00-12:00'")],
    db: DbOption = None, tenant: TenantOption = "default",
    country: Annotated[str, typer.Option(help="holidays of this country ('' = none)")] = "IT",
    province: Annotated[str | None, typer.Option(
        "--province", help="province code: adds its patron saint (MI, RM ...)")] = None,
) -> None:
    """Create a calendar, or replace the hours of the one with that name."""
    from pbxlens.reports import calendars

    try:
        with open_stores(db) as stores:
            try:
                cid = calendars.get_calendar(stores, tenant, name).id
            except calendars.CalendarError:
                cid = None
            cal = calendars.save_calendar(stores, tenant, name,
                                          hours=calendars.parse_hours(hours), country=country,
                                          subdiv=province, calendar_id=cid)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"calendar {cal.id} {cal.name}: {calendars.format_hours(cal.hours)}")


@calendars_app.command("holiday")
@forwardable("jobs")
def calendars_holiday(
    calendar: str, day: Annotated[str, typer.Argument(help="DD/MM, every year")],
    name: Annotated[str, typer.Option(help="e.g. the patron saint")] = "",
    db: DbOption = None, tenant: TenantOption = "default",
) -> None:
    """Add a local holiday (every year)."""
    from pbxlens.reports import calendars

    try:
        d, m = (int(x) for x in day.split("/"))
        with open_stores(db) as stores:
            calendars.add_holiday(stores, tenant, calendar, m, d, name)
    except ValueError:
        raise _fail(f"not a day DD/MM: {day!r}") from None
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"{calendar}: closed every {day}")


@calendars_app.command("closure")
@forwardable("jobs")
def calendars_closure(
    calendar: str, day_from: Annotated[str, typer.Argument(help="first day, YYYY-MM-DD")],
    day_to: Annotated[str | None, typer.Argument(help="last day (default: the first)")] = None,
    name: Annotated[str, typer.Option()] = "", db: DbOption = None,
    tenant: TenantOption = "default",
) -> None:
    """Add a one-off closure of whole days."""
    from pbxlens.reports import calendars

    try:
        with open_stores(db) as stores:
            calendars.add_closure(stores, tenant, calendar, _day(day_from, "from"),
                                  _day(day_to, "to"), name)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"{calendar}: closed {day_from}..{day_to or day_from}")


@calendars_app.command("assign")
@forwardable("jobs")
def calendars_assign(
    calendar: Annotated[str, typer.Argument(help="calendar name or id; 'none' removes")],
    queue: Annotated[str, typer.Option(help="queue id (default: the whole tenant)")] = "",
    db: DbOption = None, tenant: TenantOption = "default",
) -> None:
    """Make a queue (or the tenant) follow a calendar."""
    from pbxlens.reports import calendars

    try:
        with open_stores(db) as stores:
            calendars.assign(stores, tenant, queue, None if calendar == "none" else calendar)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"{queue or '(tenant)'}: {calendar}")


@calendars_app.command("delete")
@forwardable("jobs")
def calendars_delete(calendar: str, db: DbOption = None,
                     tenant: TenantOption = "default") -> None:
    """Delete a calendar (and its assignments)."""
    from pbxlens.reports import calendars

    try:
        with open_stores(db) as stores:
            calendars.delete_calendar(stores, tenant, calendar)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    out.print(f"deleted {calendar}")


# ----------------------------------------------------------------------------- drill-down


def _write_rows(rows: list[dict], columns: list[str], fmt: str, out_file: Path | None) -> None:
    if fmt == "json":
        text = json.dumps(rows, default=str, ensure_ascii=False, indent=1) + "\n"
    else:
        buf = sys.stdout if out_file is None else open(out_file, "w", encoding="utf-8",  # noqa: SIM115
                                                         newline="")
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows([["" if r.get(c) is None else r.get(c) for c in columns] for r in rows])
        if out_file is not None:
            buf.close()
        return
    if out_file:
        out_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@forwardable("read")
def drill_cmd(
    report_id: Annotated[str, typer.Argument(metavar="REPORT")],
    column: Annotated[str, typer.Option("--column", help="column key (see the report's JSON)")],
    table: Annotated[str | None, typer.Option("--table", help="table key (default: the "
                                              "first)")] = None,
    row: Annotated[str | None, typer.Option("--row", help="row key (default: the totals "
                                            "row)")] = None,
    db: DbOption = None, date_from: FromOption = None, date_to: ToOption = None,
    filters: Annotated[list[str] | None, typer.Option("--filter")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|csv|json")] = "table",
    out_file: Annotated[Path | None, typer.Option("--out")] = None,
    limit: Annotated[int, typer.Option(help="rows listed (csv/json: every row)")] = 50,
) -> None:
    """List the calls behind one count cell of a report."""
    from pbxlens.reports import Params, drilldown, get, run
    from pbxlens.reports.filters import parse_filters

    try:
        defn = get(report_id)
    except KeyError:
        raise _fail(f"unknown report {report_id!r}; see `pbxlens reports`") from None
    if fmt not in ("table", "csv", "json"):
        raise _fail("--format: table, csv or json")
    try:
        p = Params(date_from=_day(date_from, "--from"), date_to=_day(date_to, "--to"),
                   filters=parse_filters(filters or [], defn))
        con = open_analytics(db, read_only=True)
        try:
            if table is None:
                tables = run(con, defn, p).tables
                table = tables[0].key if tables else ""
            cell = drilldown.Cell(defn.id, table, row, column)
            res = (drilldown.export_rows(con, defn, p, cell) if fmt != "table" else
                   drilldown.drill(con, defn, p, cell, limit=limit))
        finally:
            con.close()
    except PbxlensError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    cols = [c["key"] for c in res.columns]
    if fmt != "table":
        _write_rows(res.rows, cols, fmt, out_file)
        return
    t = Table(*[c["label"] for c in res.columns],
              title=f"{defn.id} · {table} · {row or 'totals'} · {column}: {res.value}"
                    f" ({res.count} calls)")
    for r in res.rows:
        t.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in cols])
    out.print(t)
    if res.truncated:
        err.print(f"first {len(res.rows)} of {res.count}; --format csv lists them all")


# ----------------------------------------------------------------------------- journeys


@forwardable("read")
def journeys_cmd(
    db: DbOption = None, date_from: FromOption = None, date_to: ToOption = None,
    tenant: Annotated[str | None, typer.Option("--tenant")] = None,
    number: Annotated[str | None, typer.Option(help="caller or called number contains")] = None,
    queue: Annotated[str | None, typer.Option(help="visited this queue (id or name)")] = None,
    every_direction: Annotated[bool, typer.Option("--all", help="outgoing and internal calls "
                                                  "too")] = False,
    repeat_only: Annotated[bool, typer.Option("--repeat", help="repeat callers only")] = False,
    hours: Annotated[int | None, typer.Option(help="repeat window, hours (default: setting "
                                              "repeat_caller_hours)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|csv|json")] = "table",
    limit: Annotated[int, typer.Option()] = 200,
) -> None:
    """One row per call: queues, answered by, transfer, callback, repeat caller, FCR."""
    from pbxlens.reports import journey

    d_from, d_to = _range(date_from, date_to)
    try:
        con = open_analytics(db, read_only=True)
        try:
            res = journey.journeys(con, d_from, d_to, tenant=tenant, number=number,
                                   queue=queue, direction=None if every_direction else
                                   "incoming", repeat_only=repeat_only, hours=hours,
                                   limit=limit)
        finally:
            con.close()
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    cols = ["unique_id", "started", "caller", "called", "direction", "status", "wait_s",
            "queues", "answered_by", "transferred", "callback", "repeat", "fcr"]
    if fmt in ("csv", "json"):
        _write_rows(res.rows, cols, fmt, None)
        return
    t = Table(*cols, title=f"{res.total} calls · repeat window {res.hours} h")
    for r in res.rows:
        t.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in cols])
    out.print(t)


@forwardable("read")
def journey_cmd(
    unique_id: Annotated[str, typer.Argument(help="the call's unique id")],
    db: DbOption = None, tenant: Annotated[str | None, typer.Option("--tenant")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
) -> None:
    """The path of one call: IVR, queues, operators rung, transfers, callback, tickets."""
    from dataclasses import asdict

    from pbxlens.reports import journey

    try:
        with open_stores(db, read_only=False) as stores, stores.cursor() as cur:
            j = journey.journey(cur, unique_id, tenant=tenant, stores=stores)
    except PbxlensError as exc:
        raise _fail(str(exc)) from None
    if fmt == "json":
        sys.stdout.write(json.dumps(asdict(j), default=str, ensure_ascii=False, indent=1) + "\n")
        return
    c = j.call
    out.print(f"[b]{c['unique_id']}[/b] {c['started']} {c['caller']} → {c['called']} "
              f"{c['direction']} {c['status']} {c['duration_s']} s · repeat caller: "
              f"{j.repeat} · first-contact resolution: {j.fcr}")
    t = Table("at", "step", "", "outcome", "answered", "wait/ring s", "talk s", "detail")
    for s in j.steps:
        t.add_row(str(s.at), ("  └ " if s.level else "") + s.kind, s.label, s.outcome,
                  "" if s.answered is None else ("yes" if s.answered else "no"),
                  "" if s.wait_s is None else str(s.wait_s),
                  "" if s.talk_s is None else str(s.talk_s),
                  ", ".join(f"{k}={v}" for k, v in s.detail.items() if v))
    out.print(t)
    if j.callback:
        cb = j.callback
        out.print(f"callback request ({cb['role']}): {cb['state']} {cb.get('closure') or ''} "
                  f"calls {cb['num_calls']} recall {cb.get('recall_s') or ''} s"
                  + (f" · booked by {cb['booking']['booked_by']}" if cb.get("booking") else ""))
        for h in cb["history"]:
            out.print(f"  {h['at_ts']} {h['actor']} {h['action']} {h.get('detail') or ''}")
    for tk in j.tickets:
        out.print(f"ticket {tk['number']}: {tk['title']} ({tk['status']})")
    if j.recording:
        out.print(f"recording: {j.recording}")


# ----------------------------------------------------------------------------- staffing


@forwardable("read")
def staffing_cmd(
    queues: Annotated[list[str], typer.Option("--queue", help="queue id; repeatable")],
    db: DbOption = None, date_from: FromOption = None, date_to: ToOption = None,
    tenant: TenantOption = "default",
    interval: Annotated[int, typer.Option(help="15, 30 or 60 minutes")] = 30,
    day: Annotated[str, typer.Option(help="weekdays | all | mon..sun")] = "weekdays",
    occupancy: Annotated[int, typer.Option(help="occupancy cap, percent")] = 85,
    shrinkage: Annotated[int, typer.Option(help="shrinkage, percent")] = 30,
    wrap: Annotated[int, typer.Option(help="after-call work per answered call, s")] = 0,
    erlang_a: Annotated[bool, typer.Option("--erlang-a", help="abandoning callers (Erlang "
                                           "A)")] = False,
    target: Annotated[int | None, typer.Option(help="SL target % (default: the queue's)")] = None,
    threshold: Annotated[int | None, typer.Option(help="SL threshold s (default: the "
                                                  "queue's)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
) -> None:
    """Agents needed per interval of a typical day (Erlang C / A) beside those logged in."""
    from dataclasses import asdict

    from pbxlens.reports import staffing_plan

    d_from, d_to = _range(date_from, date_to)
    try:
        con = open_analytics(db, read_only=True)
        try:
            p = staffing_plan.plan(con, tenant, queues, d_from, d_to, minutes=interval,
                                   day_kind=day, occupancy_cap=occupancy / 100,
                                   shrinkage=shrinkage / 100, wrap_s=wrap, erlang_a=erlang_a,
                                   target_pct=target, threshold_s=threshold)
        finally:
            con.close()
    except (PbxlensError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if fmt == "json":
        sys.stdout.write(json.dumps(asdict(p), default=str, indent=1) + "\n")
        return
    for qp in p.queues:
        t = Table("interval", "calls", "Erlangs", "exact", "agents", "scheduled", "SL %",
                  "ASA s", "occ. %", "logged in", "actual occ. %",
                  title=f"{qp.label}: {qp.model}, {qp.target_pct} % within {qp.threshold_s} s, "
                        f"AHT {round(qp.aht_s or 0)} s, {qp.days} days")
        for iv in qp.intervals:
            if not iv.calls and not iv.logged_in:
                continue
            t.add_row(iv.label, f"{iv.calls:.2f}", f"{iv.traffic:.2f}", f"{iv.exact:.2f}",
                      str(iv.agents), str(iv.scheduled), str(iv.service_level or ""),
                      str(iv.asa_s or ""), str(iv.occupancy or ""),
                      "" if iv.logged_in is None else f"{iv.logged_in:.2f}",
                      str(iv.actual_occupancy or ""))
        out.print(t)
    if len(p.queues) > 1:
        out.print(f"all queues, rounded once: {sum(p.total_scheduled)} agent-intervals "
                  f"(each queue rounded: {sum(p.summed_scheduled)})")


def register(app: typer.Typer) -> None:
    app.add_typer(definitions_app, name="definitions")
    app.add_typer(calendars_app, name="calendars")
    app.command("drill")(drill_cmd)
    app.command("journeys")(journeys_cmd)
    app.command("journey")(journey_cmd)
    app.command("staffing")(staffing_cmd)
