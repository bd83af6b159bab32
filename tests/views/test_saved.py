"""Saved views in the operations store (both back-ends) and the report URL they open."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from pbxlens import PbxlensError
from pbxlens.reports import get
from pbxlens.views import query, saved, schedules
from pbxlens.views.query import ReportQuery


def _args(url: str) -> dict:
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_url_query_round_trips_periods_dates_and_filters():
    defn = get("cdr.queues")
    q = ReportQuery("fixed", date(2026, 5, 1), date(2026, 5, 31),
                    {"queue": ["700", "701"], "empty_queue": ["yes"]})
    assert q.search() == "?from=2026-05-01&to=2026-05-31&filter=queue=700,701&filter=empty_queue=yes"
    assert query.parse(defn, _args("/r" + q.search())) == q
    rel = query.parse(defn, {"period": "last_month", "from": "2020-01-01",
                             "filter": "queue=700"})
    assert rel == ReportQuery("last_month", None, None, {"queue": ["700"]})  # the period wins
    assert rel.dates(date(2026, 3, 15)) == (date(2026, 2, 1), date(2026, 2, 28))
    # a link written before `filter=`: ?queue=700
    assert query.parse(defn, {"queue": "700"}).filters == {"queue": ["700"]}
    dash_ = query.parse(get("cdr.dashboard"), {"filter": "source=+39 0461*"})
    assert dash_.search() == "?filter=source=+39%200461*"


@pytest.mark.parametrize("args,msg", [
    ({"period": "fortnight"}, "unknown period"),
    ({"from": "2026-13-01"}, "not a date"),
    ({"from": "2026-05-02", "to": "2026-05-01"}, "empty"),
    ({"filter": "nope=1"}, "unknown filter"),
    ({"filter": "empty_queue=maybe"}, "yes or no"),
])
def test_bad_urls_are_clear_errors(args, msg):
    with pytest.raises(PbxlensError, match=msg):
        query.parse(get("cdr.queues"), args)


def test_private_and_shared_views_by_tenant_and_role(world):
    s, u = world.stores, world.users
    mine = saved.save(s, u["sup"], " Code  settimana ", "cdr.queues",
                      ReportQuery("last_week", filters={"queue": ["700"]}))
    assert mine.name == "Code settimana" and mine.url == \
        "/reports/cdr.queues?period=last_week&filter=queue=700"
    shared = saved.save(s, u["supfull"], "Dashboard mese", "cdr.dashboard",
                        ReportQuery("month_to_date"), shared=True)
    billing = saved.save(s, u["fin"], "Costi", "billing.dashboard", ReportQuery("last_month"),
                         shared=True)
    names = lambda who: sorted(v.name for v in saved.visible(s, u[who]))  # noqa: E731
    assert names("sup") == ["Code settimana", "Dashboard mese"]
    assert names("supfull") == ["Dashboard mese"]  # sup's view is private
    assert names("fin") == ["Costi"]  # finance may not see the CDR reports
    assert names("acme") == [] and names("op") == []  # another tenant; no reports at all
    assert saved.get_visible(s, u["sup"], shared.id).owner_name == "supfull"
    for who, vid in (("supfull", mine.id), ("acme", shared.id), ("sup", billing.id)):
        with pytest.raises(saved.ViewNotFound):
            saved.get_visible(s, u[who], vid)


def test_saving_again_by_name_overwrites_and_bad_views_are_refused(world):
    s, sup = world.stores, world.users["sup"]
    a = saved.save(s, sup, "X", "cdr.queues", ReportQuery("yesterday"))
    b = saved.save(s, sup, "X", "cdr.queues", ReportQuery("fixed", date(2026, 5, 11),
                                                          date(2026, 5, 12)))
    assert a.id == b.id and b.period == "fixed" and b.date_to == date(2026, 5, 12)
    assert len(saved.visible(s, sup)) == 1
    for args, msg in ((("", "cdr.queues", ReportQuery("today")), "name"),
                      (("Y", "nope.report", ReportQuery("today")), "unknown report"),
                      (("Y", "billing.dashboard", ReportQuery("today")), "may not see"),
                      (("Y", "cdr.queues", ReportQuery("fixed")), "both dates")):
        with pytest.raises(saved.ViewError, match=msg):
            saved.save(s, sup, *args)


def test_deleting_a_view_deletes_its_schedules_and_only_its_owner_or_admin_may(world):
    s, u = world.stores, world.users
    v = saved.save(s, u["sup"], "Daily", "cdr.queues", ReportQuery("yesterday"), shared=True)
    schedules.create(s, u["sup"], v.id, "daily", "07:00", users=[u["sup"].id])
    with pytest.raises(saved.ViewNotFound):
        saved.delete(s, u["supfull"], v.id)
    saved.delete(s, u["admin"], v.id)
    assert saved.by_id(s, v.id) is None and schedules.listing(s) == []


def test_the_cli_finds_views_by_name_or_id(world):
    s, u = world.stores, world.users
    a = saved.save(s, u["sup"], "Same", "cdr.queues", ReportQuery("today"))
    saved.save(s, u["supfull"], "Same", "cdr.queues", ReportQuery("today"))
    assert saved.find(s, str(a.id)).id == a.id
    with pytest.raises(saved.ViewError, match="give the id"):
        saved.find(s, "Same")
    with pytest.raises(saved.ViewNotFound):
        saved.find(s, "Other")
