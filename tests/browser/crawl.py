"""What the crawl reads from a page in Chromium, and what it flags.

`visible_texts(driver)` returns the page's visible texts (text nodes with a box, input
placeholders, the document title; not what is marked `.pbx-code` or `.pbx-data`), `cut_cells`
the grid cells and headers whose text is wider than their box (or a header's taller), `overflow` how much wider than
the window the page is, `console_errors` the browser's errors. `findings(texts, lang)` flags,
for a page in `lang`:
- raw keys: snake_case words and report ids (`range_average`, `cdr.queues`);
- null-ish values: "null", "None", "NaN", "undefined", "[object Object]";
- library defaults that bypassed the catalog ("No Rows To Show", "Select...");
- strings of the other language: a text equal to a catalog string that exists only in the
  other language (an English label on an Italian page, and the reverse);
- for Italian pages, English words that no Italian label contains.
PBX vocabulary the Nexus UI itself shows untranslated (exit causes, NCC, CANCELED) is allowed.

`registered_pages` lists the pages to visit from Dash's page registry, `visit` opens one the
way a link does (no reload), waits for its loaded signal (`LOADED_JS`) and returns what is
wrong on it.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from selenium.webdriver.common.by import By

VISIBLE_TEXTS_JS = r"""
const out = [];
const hiddenMemo = new Map();  // an element's answer, shared by its descendants' text nodes
function hiddenUp(el) {  // el or one of its ancestors is display: none or visibility: hidden
  if (!el) return false;
  if (hiddenMemo.has(el)) return hiddenMemo.get(el);
  const s = getComputedStyle(el);
  const hidden = s.display === 'none' || s.visibility === 'hidden' || hiddenUp(el.parentElement);
  hiddenMemo.set(el, hidden);
  return hidden;
}
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  const text = node.nodeValue.replace(/\s+/g, ' ').trim();
  if (!text) continue;
  const el = node.parentElement;
  if (!el || el.closest('script, style, noscript, #pbx-i18n, .pbx-code, .pbx-data')) continue;
  const r = el.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) continue;  // screen-reader-only texts are 1px boxes
  const cs = getComputedStyle(el);
  if (cs.visibility === 'hidden' || cs.display === 'none' || cs.opacity === '0') continue;
  if (!hiddenUp(el)) out.push(text);
}
document.querySelectorAll('input[placeholder], textarea[placeholder]').forEach(e => {
  if (e.closest('.pbx-code, .pbx-data')) return;  // a syntax to type or a value, not a label
  if (e.getBoundingClientRect().width > 2 && e.placeholder.trim()) out.push(e.placeholder.trim());
});
out.push(document.title);
return out;
"""

CUT_CELLS_JS = r"""
const cut = [];
const sel = '.ag-cell-value, .ag-cell .pbx-pie-cell > span:last-child, .ag-header-cell-text, '
          + '.ag-header-group-text';
document.querySelectorAll(sel).forEach(el => {
  const text = el.textContent.trim();
  if (!text) return;
  if (el.scrollWidth > el.clientWidth + 1) { cut.push(text); }
});
// header heights are estimated on the server (report_view.header_heights): no header text may
// run over its cell's top or bottom
document.querySelectorAll('.ag-header-cell-text, .ag-header-group-text').forEach(el => {
  const cell = el.closest('.ag-header-cell, .ag-header-group-cell');
  const text = el.textContent.trim();
  if (!cell || !text) return;
  const t = el.getBoundingClientRect(), c = cell.getBoundingClientRect();
  if (t.top < c.top - 1 || t.bottom > c.bottom + 1) { cut.push(text); }
});
return cut;
"""

NULLISH = re.compile(r"(?<![\w-])(null|None|NaN|nan|undefined|\[object Object\])(?![\w-])")
SNAKE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.@-])")
REPORT_ID = re.compile(r"(?<![\w/])(?:cdr|cc|missed|billing|feedback)\.[a-z_]+(?![\w/])")
LIBRARY = ("No Rows To Show", "Select...", "No results found", "404 - Page not found",
           "Loading...", "Page Size:", "Search...", "Clear all")
# words of the English UI that no Italian page should show (data names are Italian here)
ENGLISH_WORDS = re.compile(
    r"\b(the|and|of|with|from|calls|call|total|totals|answered|unanswered|page|rows|search|"
    r"select|loading|show|queue|queues|operator|operators|missed|booked|download|save|delete|"
    r"edit|new|users?|settings|language|by day|by hour|cost|costs|duration|"
    r"average|quantity|served|unserved|channels|today|history|company|companies|enabled|"
    r"rate|service|services|contracts?)\b", re.I)
# the PBX's own vocabulary, shown as such by the Italian Nexus too (exit causes, statuses,
# the module names of the Nexus menu) and English words that are also Italian
ALLOWED_IN_ITALIAN = re.compile(
    r"\b(NCC(-AGENT|-CALLER)?|ANSWER(ED ELSEWHERE)?|TRANSFER|CANCELED( NOWAIT)?|NOANSWER|BUSY|"
    r"TIMEOUT|REFUSED|UNAVAILABLE|CONGESTION|FAILED|OK|QUEUE_JOINEMPTY|JOINEMPTY|Exit Cause|"
    r"Report|Dashboard|Widget|Ticket|Trace|Tracking|Call Center|Service Report|Missed Call|"
    r"Caller Queue|Caller|Called|Account|Final Customer|Tags|External|Inbound|Outbound|Score|"
    r"Outlook|Email|Gateway( name)?|Voip|Cdr|IVR|Checktime|Menu|Feedback|Tenant|Password|"
    r"Export (XLS|CSV)|Reset|File|Record|Background|back office|Multiservice|Flat)\b")




def _exit_cause_codes() -> re.Pattern:
    """The exit-cause column groups of the Italian Nexus show the PBX's codes untranslated,
    underscores included (queue tables: NCC, CANCELED, NOANSWER, QUEUE_JOINEMPTY, seed lines
    4196, 4211, 4338; operator tables: ANSWERED ELSEWHERE, CONGESTION, REFUSED, TIMEOUT, seed
    lines 5286, 5292, 5398): every code of the PBX's exit-cause list (seed lines 13677-13706,
    pbxlens.models.vocabulary: CLOSED, FULL, QUEUE_CALLBACK, ATXFER_BUSY, ...) is shown so."""
    from pbxlens.models.vocabulary import EXIT_CAUSES

    codes = sorted((t.code for t in EXIT_CAUSES if re.fullmatch(r"[A-Z][A-Z0-9_-]+", t.code)),
                   key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, codes)) + r")(?![\w-])")


EXIT_CAUSE_CODES = _exit_cause_codes()


def visible_texts(driver) -> list[str]:
    return driver.execute_script(VISIBLE_TEXTS_JS)


def cut_cells(driver) -> list[str]:
    return driver.execute_script(CUT_CELLS_JS)


def overflow(driver) -> int:
    """How many pixels the page is wider than the window (0: it fits)."""
    return driver.execute_script(
        "return Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def catalog_pairs() -> list[tuple[str, str]]:
    """Every (English, Italian) pair the UI can show: the catalog, report titles, filter
    labels, column groups, column labels and header-strip fields."""
    from pbxlens.dashboards.i18n import STRINGS
    from pbxlens.reports import all_reports
    from pbxlens.reports.catalog import BlockGroups, Group, all_filters

    pairs = list(STRINGS.values()) + [(f.en, f.it) for f in all_filters()]
    for d in all_reports():
        pairs += [(d.en, d.it), d.totals_label, d.table_title]
        pairs += [(s.en, s.it) for s in d.summary]
        for item in d.layout:
            metrics = item.metrics if isinstance(item, Group) else (
                item.metrics_for("CANCELED") if isinstance(item, BlockGroups) else ())
            if isinstance(item, Group):
                pairs.append((item.en, item.it))
            pairs += [(m.en, m.it) for m in metrics]
    return pairs


_WORD = re.compile(r"[A-Za-zÀ-ÿ]{3,}")


@functools.cache
def english_only_words() -> set[str]:
    """Words of the English labels that no Italian label uses (lower case): one of them on an
    Italian page is English that escaped the catalog."""
    pairs = catalog_pairs()
    en = {w.lower() for e, _i in pairs for w in _WORD.findall(e)}
    it = {w.lower() for _e, i in pairs for w in _WORD.findall(i)}
    return en - it - {w.lower() for w in _WORD.findall(ALLOWED_WORDS)}


# English words the Italian UI uses as such (Nexus's own Italian screens do)
ALLOWED_WORDS = ("Report Dashboard Widget Ticket Trace Tracking Call Center Service Missed "
                 "Caller Queue Account Final Customer Tags External Inbound Outbound Score "
                 "Outlook Email Gateway name Voip Cdr IVR Checktime Menu Feedback Tenant "
                 "Password Export Reset File Record Background back office Multiservice Flat "
                 "bill secs Erlang Exit Cause PBX API token XLS XLSX CSV JSON Excel default "
                 "reports")


@functools.cache
def other_language_only(lang: str) -> set[str]:
    """Catalog strings (UI strings and report titles) that exist only in the other language."""
    pairs = catalog_pairs()
    mine = {p[1] if lang == "it" else p[0] for p in pairs}
    other = {p[0] if lang == "it" else p[1] for p in pairs}
    return {s for s in other - mine if "{" not in s and len(s) > 3}


def data_names(cur) -> frozenset[str]:
    """The names in the store's directory (queues, operators, org units, tariffs, ...): data,
    not UI strings, so one that happens to equal a catalog string of the other language (an
    org unit called "Segreteria") is not a finding."""
    tables = cur.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE column_name IN ('name', 'description') AND table_schema = 'main'"
        " AND table_name NOT IN ('schema_migrations', 'rollup_meta')").fetchall()
    names: set[str] = set()
    for table, column in tables:
        sql = 'SELECT DISTINCT "{}" FROM "{}"'.format(column.replace('"', '""'),
                                                    table.replace('"', '""'))
        names.update(str(v) for (v,) in cur.execute(sql).fetchall() if v)
    return frozenset(names)


def findings(texts: list[str], lang: str, data: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with these visible texts of a page in `lang` (empty: nothing); `data`:
    the directory's names, exempt from the language checks."""
    bad = []
    foreign = other_language_only(lang)
    english = english_only_words() if lang == "it" else set()
    for text in dict.fromkeys(texts):
        if NULLISH.search(text):
            bad.append(f"null-ish: {text!r}")
        if SNAKE.search(text) or REPORT_ID.search(text):
            bad.append(f"raw key: {text!r}")
        if any(lib in text for lib in LIBRARY):
            bad.append(f"library text: {text!r}")
        if text in data:
            continue
        if text in foreign:
            bad.append(f"{'English' if lang == 'it' else 'Italian'} string: {text!r}")
        elif lang == "it":
            rest = ALLOWED_IN_ITALIAN.sub(" ", EXIT_CAUSE_CODES.sub(" ", text))
            for name in data:  # "1 · browser tariff": a directory name inside a label
                if len(name) > 3 and name in rest:
                    rest = rest.replace(name, " ")
            words = {w.lower() for w in _WORD.findall(rest)} & english
            if ENGLISH_WORDS.search(rest) or words:
                bad.append(f"English word: {text!r}")
    return bad


# props of a Dash component whose string a user reads (children, a placeholder, a tooltip)
_SHOWN_PROPS = ("children", "placeholder", "title", "label", "headerName")


def layout_texts(tree) -> list[str]:
    """The strings a page's layout (its component tree as JSON) puts before a user: what the
    browser shows of it before any callback answers. Used where the same page in the same
    language is already crawled in Chromium for another role."""
    out: list[str] = []

    def walk(node, key: str | None = None) -> None:
        if isinstance(node, str):
            if key in _SHOWN_PROPS and node.strip():
                out.append(" ".join(node.split()))
        elif isinstance(node, list):
            for x in node:
                walk(x, key)
        elif isinstance(node, dict):
            if "props" in node and "type" in node:  # a component
                classes = str(node["props"].get("className") or "").split()
                if "pbx-code" not in classes and "pbx-data" not in classes:  # as in Chromium
                    walk(node["props"])
            else:
                for k, v in node.items():
                    if k not in ("id", "style", "className", "value", "href", "data"):
                        walk(v, k if k in _SHOWN_PROPS else key)

    walk(tree)
    return out


# installed in every document before its own scripts: counts the requests in flight, so that
# "loaded" also means no callback answer on its way
FETCH_COUNTER_JS = r"""
window.__pbxInflight = 0;
const origFetch = window.fetch;
window.fetch = function () {
  window.__pbxInflight++;
  return origFetch.apply(this, arguments).finally(() => { window.__pbxInflight--; });
};
"""

LOADED_JS = r"""
// the page's own "loaded" signal: Dash has hydrated the page, the page asked for is the one
// shown, no callback is queued, running or waiting for its answer, no request is in flight, no
// loading spinner shows, every grid has drawn its rows or its overlay, and a report page has
// its result (or its message) in place
const st = window.store && window.store.getState();
if (!st || document.readyState !== 'complete' || st.appLifecycle !== 'HYDRATED') return false;
if (window.__pbxOldLayout !== undefined && st.layout === window.__pbxOldLayout) return false;
const cbs = st.callbacks || {};
for (const k of ['requested', 'prioritized', 'blocked', 'executing', 'watched', 'executed']) {
  if ((cbs[k] || []).length) return false;
}
if (st.isLoading || window.__pbxInflight > 0) return false;
if (document.querySelector('[data-dash-is-loading="true"], ._dash-loading, .dash-spinner, '
                           + '._dash-loading-callback')) return false;
const content = document.getElementById('_pages_content');
if (!content || !content.children.length) return false;
const report = document.getElementById('rp-content');
if (report && !report.children.length) return false;
for (const g of document.querySelectorAll('.ag-root')) {
  if (!g.querySelector('.ag-row, .ag-overlay-no-rows-wrapper')) return false;
  if (g.querySelector('.ag-overlay-loading-wrapper')) return false;
}
return true;
"""

# the way a dcc.Link navigates: no reload of the app, one callback for the new page's layout
NAVIGATE_JS = r"""
window.__pbxOldLayout = window.store.getState().layout;
window.history.pushState({}, '', arguments[0]);
window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));
"""


def wait_loaded(driver, timeout: float = 60.0) -> None:
    """Wait for the page's loaded signal (LOADED_JS) to hold on three polls in a row, so that a
    callback chained to another one's answer is not missed."""
    deadline = time.time() + timeout
    streak = 0
    while time.time() < deadline:
        streak = streak + 1 if driver.execute_script(LOADED_JS) else 0
        if streak >= 3:
            return
        time.sleep(0.04)
    raise TimeoutError(f"{driver.current_url} did not finish loading in {timeout:.0f} s")


# ----------------------------------------------------------------------------- the crawl

CRAWL_WIDTH, CRAWL_HEIGHT = 1366, 900  # the laptop screen the pages are made for
_VAR = re.compile(r"<(\w+)>")


@dataclass(frozen=True)
class Page:
    """One page to visit: `path` as registered (a template filled in) and the URL to open."""
    path: str
    url: str
    module: str
    variables: tuple[tuple[str, str], ...] = ()

    @property
    def report_id(self) -> str | None:
        return dict(self.variables).get("report_id")


@dataclass
class Visit:
    page: Page
    forbidden: bool
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def registered_pages(samples: dict[str, list[str]], queries: dict[str, str] | None = None
                     ) -> list[Page]:
    """Every page of `dash.page_registry` (so a new page is crawled without a list to update),
    path templates filled with `samples[variable]` (report ids for `<report_id>`, ...) and
    `queries[path]` appended (a report range, a ticket id). A template variable without
    samples is an error: the crawl must not skip a page silently."""
    import dash

    queries = queries or {}
    out = []
    for entry in dash.page_registry.values():
        template = entry.get("path_template") or entry["path"]
        names = _VAR.findall(template)
        query, module = queries.get(template, ""), entry["module"]
        if not names:
            out.append(Page(template, template + query, module))
            continue
        if len(names) > 1 or names[0] not in samples:
            raise KeyError(f"no sample value for {names} of page {template}")
        for value in samples[names[0]]:
            path = template.replace(f"<{names[0]}>", value)
            out.append(Page(path, path + query, module, ((names[0], value),)))
    return out


def crawl_driver(downloads: Path | None = None):
    """A headless Chromium at the crawl's screen size, reporting console errors."""
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="pbxlens-crawl-")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run", f"--user-data-dir={profile}",
              f"--window-size={CRAWL_WIDTH},{CRAWL_HEIGHT}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    if downloads is not None:
        opts.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FETCH_COUNTER_JS})
    driver.profile_dir = profile
    return driver


def visit(driver, base: str, page: Page, lang: str, shot: Path | None = None,
          data: frozenset[str] = frozenset()) -> Visit:
    """Open `page`, wait for its loaded signal, and list what is wrong on it: findings of its
    visible texts, console errors, cut cells; a forbidden page must say so in `lang`."""
    from pbxlens.dashboards.i18n import t

    t0 = time.perf_counter()
    here = driver.current_url
    if here.startswith(base) and here != base + page.url \
            and driver.execute_script("return !!window.store"):
        driver.execute_script(NAVIGATE_JS, page.url)  # as a click on a link does
    else:
        driver.get(base + page.url)
    try:
        wait_loaded(driver)
    except TimeoutError as exc:
        return Visit(page, False, [str(exc)], time.perf_counter() - t0)
    forbidden = driver.find_elements(By.ID, "pbx-forbidden")
    bad = findings(visible_texts(driver), lang, data)
    bad += [f"console error: {m}" for m in console_errors(driver)]
    bad += [f"cut cell: {c!r}" for c in dict.fromkeys(cut_cells(driver))]
    if wider := overflow(driver):
        bad.append(f"the page is {wider} px wider than the {CRAWL_WIDTH} px screen")
    if forbidden and forbidden[0].text.strip() != t("forbidden", lang):
        bad.append(f"forbidden state not in {lang}: {forbidden[0].text!r}")
    if shot is not None:
        driver.save_screenshot(str(shot))
    return Visit(page, bool(forbidden), bad, time.perf_counter() - t0)
