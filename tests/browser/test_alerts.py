"""The alert rule editor in real Chromium: a supervisor creates a rule on `/alerts` (kind,
queues, threshold, email and Slack channels), switches it off, edits it and deletes it; every
step lands in the operations store through the rule functions, every label in Italian."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from pbxlens.live import rules
from tests.browser.helpers import login, wait

NAME = "Browser rule"


def _mine(live) -> list[rules.Rule]:
    with live.store.ops_read() as c:
        return [r for r in rules.list_rules(c, "default") if r.name == NAME]


def _type(driver, element_id: str, text: str) -> None:
    box = driver.find_element(By.ID, element_id)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text)


def _button(driver, label: str):
    return driver.find_element(By.XPATH, f"//table[@id='alerts-rules']//tr[td[text()="
                                         f"'{NAME}']]//button[text()='{label}']")


def test_a_supervisor_creates_disables_edits_and_deletes_a_rule(browser, live, shot):
    d = browser
    login(d, live.base_url, "sup")  # Italian
    d.get(live.base_url + "/alerts")
    wait(d).until(EC.presence_of_element_located((By.ID, "alert-editor")))
    _type(d, "alert-rule-name", NAME)
    box = d.find_element(By.CSS_SELECTOR, "#alert-rule-kind input")
    box.send_keys("chiamate in attesa")
    box.send_keys(Keys.ENTER)
    _type(d, "alert-rule-queues", "7704, 7705")
    _type(d, "alert-rule-threshold", "3")
    _type(d, "alert-rule-emails", "sup@acme.it")
    _type(d, "alert-rule-slack", "https://hooks.example.com/T1")
    d.find_element(By.ID, "alert-rule-save").click()
    wait(d, 10).until(EC.text_to_be_present_in_element((By.ID, "alert-rule-msg"),
                                                       f"Regola salvata: {NAME}"))
    (r,) = _mine(live)
    assert (r.kind, r.queues, r.threshold, r.enabled, r.lang) == (
        "waiting_above", ["7704", "7705"], 3.0, True, "it")
    assert r.channels == [{"kind": "email", "target": "sup@acme.it"},
                          {"kind": "webhook", "target": "https://hooks.example.com/T1",
                           "style": "slack"}]
    wait(d, 10).until(lambda drv: _button(drv, "Disattiva"))
    shot("alerts-editor")
    _button(d, "Disattiva").click()
    wait(d, 10).until(lambda drv: _button(drv, "Attiva"))
    assert [x.enabled for x in _mine(live)] == [False]
    _button(d, "Modifica").click()
    wait(d, 10).until(EC.text_to_be_present_in_element((By.ID, "alert-rule-msg"),
                                                       f"In modifica: {NAME}"))
    assert d.find_element(By.ID, "alert-rule-slack").get_attribute("value") \
        == "https://hooks.example.com/T1"
    _type(d, "alert-rule-threshold", "5")
    d.find_element(By.ID, "alert-rule-save").click()
    wait(d, 10).until(EC.text_to_be_present_in_element((By.ID, "alert-rule-msg"),
                                                       f"Regola salvata: {NAME}"))
    (edited,) = _mine(live)
    assert (edited.id, edited.threshold) == (r.id, 5.0)
    text = d.find_element(By.TAG_NAME, "main").text if d.find_elements(By.TAG_NAME, "main") \
        else d.find_element(By.TAG_NAME, "body").text
    assert "alert_" not in text and "Condizione" in text
    wait(d, 10).until(lambda drv: _button(drv, "Elimina"))
    _button(d, "Elimina").click()
    wait(d, 10).until(lambda drv: not drv.find_elements(
        By.XPATH, f"//table[@id='alerts-rules']//td[text()='{NAME}']"))
    assert _mine(live) == []
