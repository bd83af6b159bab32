"""What the crawl reads from a page in Chromium, and what it flags.

`page_report(driver)` returns the page's visible texts (text nodes with a box, input
placeholders, the document title), its cut cells (grid cells and headers whose text is wider
than their box), and its console errors. `findings(texts, lang)` flags, for a page in `lang`:
- raw keys: snake_case words and report ids (`range_average`, `cdr.queues`);
- null-ish values: "null", "None", "NaN", "undefined", "[object Object]";
- library defaults that bypassed the catalog ("No Rows To Show", "Select...");
- strings of the other language: a text equal to a catalog string that exists only in the
  other language (an English label on an Italian page, and the reverse);
- for Italian pages, English words that no Italian label contains.
PBX vocabulary the Nexus UI itself shows untranslated (exit causes, NCC, CANCELED) is allowed.
"""

from __future__ import annotations

import re
import time

from selenium.webdriver.common.by import By

VISIBLE_TEXTS_JS = r"""
const out = [];
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
  let hidden = false;
  for (let p = el; p; p = p.parentElement) {
    const s = getComputedStyle(p);
    if (s.display === 'none' || s.visibility === 'hidden') { hidden = true; break; }
  }
  if (!hidden) out.push(text);
}
document.querySelectorAll('input[placeholder], textarea[placeholder]').forEach(e => {
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


def visible_texts(driver) -> list[str]:
    return driver.execute_script(VISIBLE_TEXTS_JS)


def cut_cells(driver) -> list[str]:
    return driver.execute_script(CUT_CELLS_JS)


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def other_language_only(lang: str) -> set[str]:
    """Catalog strings (UI strings and report titles) that exist only in the other language."""
    from pbxlens.dashboards.i18n import STRINGS
    from pbxlens.reports import all_reports

    pairs = list(STRINGS.values()) + [(d.en, d.it) for d in all_reports()]
    mine = {p[1] if lang == "it" else p[0] for p in pairs}
    other = {p[0] if lang == "it" else p[1] for p in pairs}
    return {s for s in other - mine if "{" not in s and len(s) > 3}


def findings(texts: list[str], lang: str) -> list[str]:
    """What is wrong with these visible texts of a page in `lang` (empty: nothing)."""
    bad = []
    foreign = other_language_only(lang)
    for text in dict.fromkeys(texts):
        if NULLISH.search(text):
            bad.append(f"null-ish: {text!r}")
        if SNAKE.search(text) or REPORT_ID.search(text):
            bad.append(f"raw key: {text!r}")
        if any(lib in text for lib in LIBRARY):
            bad.append(f"library text: {text!r}")
        if text in foreign:
            bad.append(f"{'English' if lang == 'it' else 'Italian'} string: {text!r}")
        elif lang == "it":
            rest = ALLOWED_IN_ITALIAN.sub(" ", text)
            if ENGLISH_WORDS.search(rest):
                bad.append(f"English word: {text!r}")
    return bad


def settle(driver, timeout: float = 90.0) -> None:
    """Wait until Dash has no callback in flight and no loading spinner is shown."""
    deadline = time.time() + timeout
    quiet = 0
    while time.time() < deadline:
        busy = driver.execute_script(
            "return !!document.querySelector('[data-dash-is-loading=\"true\"], "
            "._dash-loading, .dash-spinner') || document.readyState !== 'complete'")
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return
        time.sleep(0.4)


def open_page(driver, url: str) -> None:
    driver.get(url)
    settle(driver)
    driver.find_element(By.TAG_NAME, "body")
