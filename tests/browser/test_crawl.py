"""The page crawl: every page of the app (from Dash's page registry, report pages from the
catalog) in real Chromium at 1366 px, read as a user of each role reads it, must show only
catalog strings of the user's language (no raw key, snake_case, "null", library default,
string of the other language, English word on an Italian page), no console error and no cut
grid cell; a page a role may not open shows the translated forbidden state.

The matrix here: each role other than admin in its own language (Italian, a new user's) over
the pages it may open, plus the pages it may not open that are not reports and one report it
may not see (every refused page's layout is also checked on the server); admin (who may open
every page) over every page in English, and in Italian over the pages no other role opens. On
the pages they do open, the admin's own controls are checked in the admin's layout on the
server, with every option of its lists (Chromium shows an option only once its list opens).
The complete role × language matrix, with a screenshot of each page, is
`make bench BENCH=ui_crawl` (bench/ui_crawl.py)."""

from __future__ import annotations

import json
import shutil

import dash
import flask
import plotly
import pytest

from pbxlens.dashboards.i18n import t
from pbxlens.reports import all_reports
from pbxlens.store import users as auth
from pbxlens.tickets import companies, ticket
from tests.browser import crawl
from tests.browser.helpers import login, nav_hrefs
from tests.dashboards.live import DAY1, DAY2, PASSWORD, USERS

# role -> the fixture user whose rights (privacy, tenant) the crawl's users copy
ROLE_USERS = {"admin": "admin", "supervisor": "sup", "finance": "fin", "operator": "op"}
# (role, language); None: the language a new user gets, the role's own
CASES = [("admin", "en"), ("admin", "it"), ("supervisor", None), ("finance", None),
         ("operator", None)]


def crawl_user(live, role: str, lang: str | None) -> auth.User:
    """The crawl's own user for (role, language), so no other test's language switch or
    role change can move it."""
    name = f"crawl-{role}-{lang or 'own'}"
    for u in auth.list_users(live.store):
        if u.username == name:
            return u
    _role, privacy, tenant = USERS[ROLE_USERS[role]]
    extra = {"lang": lang} if lang else {}
    return auth.create_user(live.store, name, PASSWORD, _role, privacy=privacy, tenant=tenant,
                            **extra)


def crawl_ticket(live) -> int:
    """A ticket of the supervisor's area with its company and a tag, so the edit page is
    crawled with its form filled."""
    sup = next(u for u in auth.list_users(live.store) if u.username == "sup")
    with live.store.ops_write() as c:
        acme = (companies.company_by_name(c, "Crawl Srl") or {}).get("id") \
            or companies.create_company(c, "Crawl Srl")
        return ticket.create(c, title="Crawl", account_id=acme, final_customer_id=acme,
                             type="analisi", priority="priorita 2", user=sup, notify_on=False,
                             tags=["crawl"])


@pytest.fixture(scope="module")
def site(live):
    """The pages to crawl and the directory's names: one call with the longest path samples
    the pages of one call; report pages show the store's two days."""
    with live.store.cursor() as cur:
        (uid,) = cur.execute("SELECT unique_id FROM call_legs GROUP BY unique_id"
                             " ORDER BY count(*) DESC, unique_id LIMIT 1").fetchone()
        names = crawl.data_names(cur)
    names |= {u.username for u in auth.list_users(live.store)}  # in charge of a ticket, ...
    pages = crawl.registered_pages(
        {"report_id": [d.id for d in all_reports()], "unique_id": [uid]},
        {"/reports/<report_id>": f"?from={DAY1}&to={DAY2}",
         "/tickets/edit": f"?id={crawl_ticket(live)}"})  # the edit form filled, not its empty state
    return pages, names


@pytest.fixture(scope="module")
def crawler():
    driver = crawl.crawl_driver()
    yield driver
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def server_layout(live, user, page: crawl.Page):
    """`page`'s layout for `user`, as the server sends it (JSON), no browser needed."""
    with live.app.server.test_request_context(page.url):
        flask.g.user = user
        layout = dash.page_registry[page.module]["layout"]
        return json.loads(json.dumps(layout(**dict(page.variables), **flask.request.args.to_dict()),
                                     cls=plotly.utils.PlotlyJSONEncoder))


def refused(live, user, page: crawl.Page) -> bool:
    """Whether `user` gets the forbidden state on `page`, from its layout on the server (no
    browser needed); a refusal must be in the user's language."""
    tree = json.dumps(server_layout(live, user, page))
    if "pbx-forbidden" not in tree:
        return False
    assert json.dumps(t("forbidden", user.lang)) in tree, (page.url, user.lang)
    return True


_REFUSALS: dict[str, set[str]] = {}  # a crawl user's name -> the paths it is refused


def refusals(live, user, pages: list[crawl.Page]) -> set[str]:
    """The paths `user` is refused (each crawl user's role never changes: computed once)."""
    if user.username not in _REFUSALS:
        _REFUSALS[user.username] = {p.path for p in pages if refused(live, user, p)}
    return _REFUSALS[user.username]


def pages_for(live, user, pages: list[crawl.Page]) -> tuple[list[crawl.Page], set[str]]:
    """Another role: the pages it may open, its refused pages that are not reports, and its
    first refused report; with the paths it is refused. Admin: every page, but in the
    language the other roles read, only the pages none of them opens (the admin's own
    controls on the others are checked in its layouts, `test_admin_layouts_...`)."""
    if user.role == "admin":
        seen = opened_by_others(live, user.lang, pages)
        return [p for p in pages if p.path not in seen], set()
    refused_paths = refusals(live, user, pages)
    mine = [p for p in pages if p.path not in refused_paths]
    other = [p for p in pages if p.path in refused_paths and not p.report_id]
    reports = [p for p in pages if p.path in refused_paths and p.report_id][:1]
    return mine + other + reports, refused_paths


def opened_by_others(live, lang: str, pages: list[crawl.Page]) -> set[str]:
    """The paths that another role's case of CASES opens (not refused) in Chromium in `lang`."""
    out: set[str] = set()
    for role, case_lang in CASES:
        user = crawl_user(live, role, case_lang)
        if role != "admin" and user.lang == lang:
            out |= {p.path for p in pages} - refusals(live, user, pages)
    return out


def test_admin_layouts_of_the_pages_other_roles_crawl(live, site):
    """The admin's own controls on a page another role crawls in the same language (an owner
    column, an edit button), and every option of its lists, which Chromium shows only once
    opened: the admin's layout of that page, read on the server, holds only strings of the
    language."""
    pages, names = site
    problems = {}
    for _role, lang in CASES:
        if lang is None:
            continue
        admin, others = crawl_user(live, "admin", lang), opened_by_others(live, lang, pages)
        names |= {u.username for u in auth.list_users(live.store)}  # the crawl's users too
        for page in pages:
            if page.path in others:
                texts = crawl.layout_texts(server_layout(live, admin, page))
                if bad := crawl.findings(texts, lang, data=names):
                    problems[f"{lang} {page.url}"] = bad
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("role,lang", CASES,
                         ids=[f"{r}-{lang or 'own'}" for r, lang in CASES])
def test_every_page_reads_in_the_users_language(live, crawler, site, role, lang):
    pages, names = site
    user = crawl_user(live, role, lang)
    login(crawler, live.base_url, user.username)
    nav = nav_hrefs(crawler)
    todo, refusals = pages_for(live, user, pages)
    problems: dict[str, list[str]] = {}
    for page in todo:
        seen = crawl.visit(crawler, live.base_url, page, user.lang, data=names)
        if seen.forbidden != (page.path in refusals):
            seen.findings.append(f"forbidden shown: {seen.forbidden}, expected: {not seen.forbidden}")
        if seen.forbidden and page.path in nav:
            seen.findings.append("the navigation links to a page the user may not open")
        if seen.findings:
            problems[page.url] = seen.findings
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)
