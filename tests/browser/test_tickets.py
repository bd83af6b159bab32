"""Real Chromium: the CTI opens /tickets/new?caller=...&unique_id=... and the operator saves a
ticket pre-filled with the caller's company and contact, the call linked; the number is masked
for a user without the privacy right (the caller, and numbers in titles in the list and the
open-tickets panel); the ticket shows in the list and on the trace mask."""

from __future__ import annotations

from urllib.parse import quote

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from pbxlens.dashboards.i18n import ticket_status
from pbxlens.store import users as auth
from pbxlens.tickets import companies, listing, ticket
from tests.browser.helpers import login, rows, wait

PRESENT = EC.presence_of_element_located


def _pick(driver, dropdown_id: str, text: str):
    box = driver.find_element(By.CSS_SELECTOR, f"#{dropdown_id} input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def test_ticket_from_a_caller_url(live, browser, shot):
    d, base, store = browser, live.base_url, live.store
    with store.ops_write() as c:
        if companies.company_by_name(c, "Acme Browser") is None:
            acme = companies.create_company(c, "Acme Browser", phones=("0461 765432",))
            companies.add_contact(c, acme, "Mario Rossi", phones=("+39 333 7654321",))
    login(d, base, "sup")  # no privacy right
    d.get(f"{base}/tickets/new?caller={quote('0039 333 765 4321')}&unique_id=1778600000.42")
    match = wait(d).until(PRESENT((By.ID, "tn-match")))
    assert match.text == "Acme Browser · Mario Rossi"
    assert d.find_element(By.ID, "tn-caller").text == "0039 333 765 4xxx"
    assert d.find_element(By.ID, "tn-call").text == "1778600000.42"
    wait(d).until(lambda drv: "Acme Browser" in drv.find_element(By.ID, "tn-final").text)
    # the contact picker is re-rendered by the final-customer callback: read it by waiting
    wait(d).until(lambda drv: "Mario Rossi" in drv.find_element(By.ID, "tn-final-contact").text)
    d.find_element(By.ID, "tn-title").send_keys("Stampante bloccata, richiamare 0461 765999")
    _pick(d, "tn-type", "assistenza")
    _pick(d, "tn-priority", "priorita 1")
    shot("ticket_new_from_call")
    d.find_element(By.ID, "tn-save").click()
    number = wait(d).until(PRESENT((By.ID, "te-number")))
    assert "/tickets/edit?id=" in d.current_url
    tid = int(d.current_url.rsplit("=", 1)[1])
    with store.ops_read() as c:
        tk = ticket.get(c, tid)
    assert tk["number"] == number.text and tk["unique_ids"] == ["1778600000.42"]
    assert (tk["creation_mode"], tk["status"], tk["area"]) == ("call", "nuovo", "Assistenza")
    with store.ops_read() as c:
        assert companies.get_company(c, tk["final_customer_id"])["name"] == "Acme Browser"
        assert companies.get_contact(c, tk["final_customer_contact_id"])["name"] == "Mario Rossi"
    # tracking from the page: the first one moves the ticket to in_lavorazione
    d.find_element(By.ID, "te-duration").send_keys("00:30")
    _pick(d, "te-track-type", "assistenza")
    d.find_element(By.ID, "te-track").click()
    sup = next(u for u in auth.list_users(store) if u.username == "sup")
    status = ticket_status("in_lavorazione", sup.lang)
    wait(d).until(lambda drv: "00:30" in drv.find_element(By.ID, "te-info").text
                  and status in drv.find_element(By.ID, "te-info").text)
    shot("ticket_edit")
    d.get(base + "/tickets")
    wait(d).until(lambda drv: tk["number"] in drv.find_element(By.ID, "tl-grid").text)
    assert d.find_elements(By.ID, "tl-advanced") and d.find_elements(By.ID, "tl-facets")
    box = d.find_element(By.ID, "tl-text")
    box.send_keys("bloccata")
    d.find_element(By.ID, "tl-search").click()
    # the row's text is read inside the wait: the grid may draw its rows once more after the
    # search answers, and a row element read after the wait can be gone (stale) by then
    row = wait(d).until(lambda drv: len(found := rows(drv)) == 1
                        and tk["number"] in (text := found[0].text) and text)
    assert "0461 765xxx" in row and "765999" not in d.find_element(By.TAG_NAME, "main").text
    shot("tickets_list")
    d.get(base + "/tickets/companies")
    wait(d).until(lambda drv: "Acme Browser" in drv.find_element(By.ID, "tc-grid").text)
    grid = d.find_element(By.ID, "tc-grid").text
    assert "0461 765xxx" in grid and "0461 765432" not in grid  # masked without the privacy right
    d.get(f"{base}/trace?direction=in&caller=3337654321&uniqueid=1778600000.42")
    side = wait(d).until(PRESENT((By.ID, "tr-caller-side")))
    wait(d).until(lambda drv: "Mario Rossi" in drv.find_element(By.ID, "tr-caller-side").text)
    main = d.find_element(By.TAG_NAME, "main").text
    assert "3337654xxx" in side.text and "3337654321" not in main  # masked
    assert "Acme Browser" in side.text and "Mario Rossi" in side.text
    assert tk["number"] in d.find_element(By.TAG_NAME, "main").text  # its open tickets
    assert "richiamare 0461 765xxx" in main and "765999" not in main  # titles masked too
    shot("trace_mask")
    sup = next(u for u in auth.list_users(store) if u.username == "sup")
    with store.ops_read() as c:
        assert tid in {r["id"] for r in listing.rows(c, sup)}


def test_trace_unknown_caller_new_company_linked(live, browser, shot):                    # TR-1
    d, base = browser, live.base_url
    login(d, base, "supfull")                               # privacy right: full numbers
    d.get(f"{base}/trace?direction=in&caller=0212349999&called=0461999000&uniqueid=1778600000.9")
    side = wait(d).until(PRESENT((By.ID, "tr-caller-side")))
    assert "0212349999" in side.text
    assert set(d.find_element(By.ID, "tr-financial").find_elements(By.TAG_NAME, "dd")[0].text.split()) == {"ND"}
    d.find_element(By.ID, "tr-caller-newco").send_keys("Foo Browser")
    d.find_element(By.ID, "tr-caller-mkco").click()
    wait(d).until(lambda drv: "Foo Browser" in drv.find_element(By.ID, "tr-caller-company").text)
    d.find_element(By.XPATH, "//*[@id='tr-caller-actions']//label[contains(., \"all'azienda\")]//input").click()
    _pick(d, "tr-type", "assistenza")
    _pick(d, "tr-priority", "priorita 2")
    d.find_element(By.ID, "tr-save").click()
    msg = wait(d).until(lambda drv: "CHM-IN-" in drv.find_element(By.ID, "tr-msg").text
                        and drv.find_element(By.ID, "tr-msg"))
    number = msg.text.split()[-1].rstrip(".")
    wait(d).until(lambda drv: number in drv.find_element(By.ID, "tr-grid").text)
    d.get(f"{base}/trace?direction=in&caller={quote('+39 02 1234 9999')}")
    wait(d).until(lambda drv: "Foo Browser" in drv.find_element(By.ID, "tr-caller-side").text)
    shot("trace_linked")
