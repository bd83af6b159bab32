"""Click to call (nexus_modules.md A.4): a `tel:` link (for users with the privacy right: it
holds the number), and, when the `originate`
setting is on and a PBX is configured (pbx_url/pbx_user/pbx_password), a request to the PBX to
ring the operator's extension and then dial the customer: KalliopePBX
`GET /rest/phoneServices/c2c/{dest}/{src}` (pbx_callcenter.md, L9179) with X-authenticate.

`Originator` is the interface; `PbxOriginator` talks to a real PBX (the fake PBX of
pbxlens.simulate.fake_pbx in the tests). Starting a call hides the request (R6b) until its CDR
row arrives or `dial_timeout_s` passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls import settings as ms
from pbxlens.missed_calls.actor import Actor
from pbxlens.missed_calls.errors import MissedError

if TYPE_CHECKING:
    from pbxlens.store import Stores


class Originator(Protocol):
    def originate(self, extension: str, number: str) -> str | None:
        """Ask the PBX to call `extension`, then `number`; returns the PBX's call id if any."""


@dataclass
class PbxOriginator:
    base_url: str
    username: str
    password: str
    domain: str = "default"
    verify: bool = True

    def originate(self, extension: str, number: str) -> str | None:
        from pbxlens.ingest.pbx_api import PbxClient

        with PbxClient(self.base_url, self.username, self.password, self.domain,
                       verify=self.verify, attempts=2) as client:
            r = client.get(f"rest/phoneServices/c2c/{quote(number, safe='')}/"
                           f"{quote(extension, safe='')}")
        try:
            body = r.json()
        except ValueError:
            return None
        return str(body.get("call_uuid") or body.get("id") or "") or None if isinstance(body, dict) else None


def tel_link(call_num: str) -> str:
    """The dialled form: the line-seizure code (if any) + the national number."""
    return "tel:" + (get_settings().line_prefix or "") + call_num


def configured(stores: Stores) -> Originator | None:
    s = get_settings()
    on = ms.flag(op.settings_of(stores), "originate")
    if not (on and s.pbx_url and s.pbx_user and s.pbx_password):
        return None
    return PbxOriginator(s.pbx_url, s.pbx_user, s.pbx_password, s.pbx_domain, s.pbx_verify_tls)


def call(stores: Stores, actor: Actor, token: str, originator: Originator | None = None,
         now: datetime | None = None) -> dict:
    """The operator clicked the number of request `token`: ask the PBX to originate when an
    originator is configured, hide the request while the call runs, and return the `tel:`
    link (only to users with the privacy right: it holds the number)."""
    number = op.dial_target(stores, actor, token)
    dialled = (get_settings().line_prefix or "") + number
    uuid = None
    if originator is not None:
        if not actor.extension:
            raise MissedError(f"{actor.username} has no extension to call from",
                              username=actor.username)
        try:
            uuid = originator.originate(actor.extension, dialled)
        except PbxlensError as exc:
            raise MissedError(f"the PBX did not start the call: {exc}") from None
    r = op.dial(stores, actor, token, now=now, call_uuid=uuid)
    return {"token": token, "call_num": r["call_num"],
            "tel": tel_link(number) if actor.privacy else None,
            "originated": originator is not None, "call_uuid": uuid}
