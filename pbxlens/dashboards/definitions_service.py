"""The web app's one way into definitions, calendars, drill-down, journeys and staffing: roles
(managers: admin and supervisor), the user's tenant, the query guard and the privacy mask, as
`service.run_report` does for reports. Pages call these and render; no SQL here."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date

from pbxlens import PbxlensError
from pbxlens.dashboards import access
from pbxlens.dashboards.service import WebError, params_from_json, report_def
from pbxlens.reports import Guard, ReportGuardError, calendars, definitions, drilldown, journey, staffing_plan
from pbxlens.store import Stores
from pbxlens.store.privacy import mask_number, mask_row, mask_text
from pbxlens.store.users import User


def require_manager(user: User | None) -> User:
    if not access.is_manager(user):
        raise WebError("only administrators and supervisors", status=403, error_id="forbidden")
    return user


def local_time(dt) -> str:
    """A PBX-local wall-clock datetime as the reports print instants."""
    return dt.strftime("%d/%m/%Y %H:%M:%S") if dt else ""


def _mask_rows(rows: list[dict], privacy: bool) -> list[dict]:
    if privacy:
        return rows
    return [mask_row(r, privacy) for r in rows]


# ----------------------------------------------------------------------------- drill-down


def drill(store: Stores, user: User | None, report_id: str, params: dict, table: str,
          row: str | None, column: str, lang: str, limit: int = 500
          ) -> drilldown.DrillResult:
    """The calls behind a count cell of a report the user may see, in the user's tenant."""
    defn = report_def(report_id)
    if not access.can_see_report(user, defn.id):
        raise WebError(f"you may not see {report_id}", status=403, error_id="forbidden")
    p = dataclasses.replace(params_from_json(params, lang=lang), tenant=user.tenant)
    guard = Guard.from_settings()
    try:
        with store.cursor() as cur:
            d_from, d_to = p.resolved()
            guard.check_range(defn.id, d_from, d_to)
            with guard.limit(cur, defn.id) as watched:
                res = drilldown.drill(watched, defn, p, drilldown.Cell(defn.id, table, row,
                                                                       column), limit=limit)
    except ReportGuardError as exc:
        raise WebError(str(exc), status=exc.status, error_id=exc.error_id) from None
    res.rows = _mask_rows(res.rows, user.privacy)
    return res


def drill_csv(res: drilldown.DrillResult) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    keys = [c["key"] for c in res.columns]
    w.writerow([c["label"] for c in res.columns])
    for r in res.rows:
        w.writerow(["" if r.get(k) is None else r.get(k) for k in keys])
    return buf.getvalue().encode("utf-8")


def drill_xlsx(res: drilldown.DrillResult) -> bytes:
    """The list as a typed sheet: durations as Excel durations, instants as dates."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "remove_timezone": True})
    ws = wb.add_worksheet("calls")
    bold = wb.add_format({"bold": True})
    dur = wb.add_format({"num_format": "[h]:mm:ss"})
    when = wb.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    for j, c in enumerate(res.columns):
        ws.write(0, j, c["label"], bold)
    for i, r in enumerate(res.rows, start=1):
        for j, c in enumerate(res.columns):
            v = r.get(c["key"])
            if v is None:
                continue
            if c["unit"] == "duration":
                ws.write_number(i, j, float(v) / 86400, dur)
            elif c["unit"] == "instant":
                ws.write_datetime(i, j, v, when)
            elif isinstance(v, int | float):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, str(v))
    wb.close()
    return buf.getvalue()


# ----------------------------------------------------------------------------- journeys


def journeys(store: Stores, user: User | None, d_from: date, d_to: date, **kw
             ) -> journey.JourneyList:
    user = require_manager(user)
    Guard.from_settings().check_range("journeys", d_from, d_to)
    with store.cursor() as cur:
        res = journey.journeys(cur, d_from, d_to, tenant=user.tenant, **kw)
    res.rows = _mask_rows(res.rows, user.privacy)
    return res


def call_journey(store: Stores, user: User | None, unique_id: str) -> journey.Journey:
    user = require_manager(user)
    with store.cursor() as cur:
        try:
            j = journey.journey(cur, unique_id, tenant=user.tenant, stores=store)
        except journey.JourneyError as exc:
            raise WebError(str(exc), status=404, error_id="call-not-found") from None
    if not user.privacy:  # numbers masked; recordings are for the privacy right only
        j.call = mask_row(j.call, False)
        j.recording = None
        if j.callback:
            j.callback["call_num"] = mask_number(j.callback["call_num"])
            for h in j.callback["history"]:
                h["detail"] = mask_text(h.get("detail"))
                h["call_num"] = mask_number(h.get("call_num"))
            j.callback["request_key"] = mask_text(j.callback["request_key"])
        for s in j.steps:
            s.label = mask_text(s.label)
    return j


# ----------------------------------------------------------------------------- staffing


def staffing(store: Stores, user: User | None, queues: list[str], d_from: date, d_to: date,
             **kw) -> staffing_plan.Plan:
    user = require_manager(user)
    try:
        with store.cursor() as cur:
            return staffing_plan.plan(cur, user.tenant, queues, d_from, d_to, **kw)
    except ValueError as exc:  # a target no number of agents reaches
        raise WebError(str(exc)) from None


def queue_choices(store: Stores, user: User | None) -> list[dict]:
    """The tenant's queues: the directory's, then those only the data names."""
    user = require_manager(user)
    with store.cursor() as cur:
        rows = cur.execute(
            "SELECT id, coalesce(name, id) FROM queues WHERE tenant = ? UNION "
            "SELECT qkey, max(coalesce(nullif(queue_name, ''), qkey)) FROM queue_visits "
            "WHERE tenant = ? AND qkey <> '' AND qkey NOT IN (SELECT id FROM queues "
            "WHERE tenant = ?) GROUP BY qkey ORDER BY 2", [user.tenant] * 3).fetchall()
    return [{"value": k, "label": f"{name} ({k})" if name != k else k} for k, name in rows]


# ----------------------------------------------------------------------------- definitions


def set_definition(store: Stores, user: User | None, qkey: str, **values
                   ) -> definitions.QueueDefinition:
    user = require_manager(user)
    return definitions.set_definition(store, user.tenant, qkey, by=user.username, **values)


def delete_definition(store: Stores, user: User | None, qkey: str) -> bool:
    user = require_manager(user)
    return definitions.delete_definition(store, user.tenant, qkey)


def save_calendar(store: Stores, user: User | None, name: str, hours_text: str,
                  country: str, subdiv: str | None, calendar_id: int | None = None
                  ) -> calendars.Calendar:
    user = require_manager(user)
    return calendars.save_calendar(store, user.tenant, name,
                                   hours=calendars.parse_hours(hours_text), country=country,
                                   subdiv=subdiv, calendar_id=calendar_id)


def calendar_action(store: Stores, user: User | None, action: str, calendar: str, **kw):
    """holiday (month, day, name) | closure (day_from, day_to, name) | remove_day (day_id) |
    assign (qkey) | unassign (qkey) | delete."""
    user = require_manager(user)
    t = user.tenant
    if action == "holiday":
        return calendars.add_holiday(store, t, calendar, kw["month"], kw["day"], kw.get("name"))
    if action == "closure":
        return calendars.add_closure(store, t, calendar, kw["day_from"], kw.get("day_to"),
                                     kw.get("name", ""))
    if action == "remove_day":
        return calendars.remove_day(store, t, calendar, kw["day_id"])
    if action == "assign":
        return calendars.assign(store, t, kw.get("qkey", ""), calendar)
    if action == "unassign":
        return calendars.assign(store, t, kw.get("qkey", ""), None)
    if action == "delete":
        return calendars.delete_calendar(store, t, calendar)
    raise PbxlensError(f"unknown calendar action {action!r}")
