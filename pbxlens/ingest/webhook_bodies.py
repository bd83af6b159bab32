"""The bodies the PBX posts to the webhooks, parsed into rows (no store, no web framework):

- events (formats.md §2): one JSON event or an array, each validated by the `events.Event`
  model (`events.parse_event`), the same as event-log files;
- dynamic-routing requests (nexus_modules.md A.3.1, the seed's body L6241-6252) and feedback
  (D.1): `<parameters>` XML, parsed with defusedxml (no DTD, no entities), its fields
  validated by the `Parameters` model.

Size and shape are checked before anything is allocated for them: the byte limit is the
caller's (it reads at most that much), nesting depth and element counts are counted here with
C-speed scans before a parser sees the body; the models see only what passed those checks.
Anything refused raises `BadBody` with the reason
a person reads and the HTTP status that fits (400 malformed, 413 too big).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pbxlens.ingest import events

MAX_EVENTS_PER_BODY = 10_000
MAX_XML_TAGS = 1_000  # a request body has about 25 tags
DEFAULT_MAX_DEPTH = 64
_PLACEHOLDER = re.compile(r"^%[A-Za-z0-9_\[\]]+%$")


class BadBody(Exception):
    """A body that cannot be stored: answered 4xx (`status`) with the reason."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def json_depth(body: bytes) -> int:
    r"""The deepest nesting of arrays/objects in a JSON text; brackets inside strings do not
    count. Vectorized (numpy), linear in the body: a quote is a string's edge unless an odd run
    of backslashes precedes it.

    Example:
        >>> json_depth(b'{"a": [1, {"b": "[[\\"[["}]}'), json_depth(b"3"), json_depth(b"[[]]")
        (3, 0, 2)
    """
    a = np.frombuffer(body, dtype=np.uint8)
    if a.size == 0:
        return 0
    idx = np.arange(a.size)
    slash = a == ord("\\")
    last_plain = np.maximum.accumulate(np.where(slash, -1, idx))  # last non-backslash <= i
    run_before = np.empty(a.size, dtype=np.int64)  # backslashes right before i
    run_before[0] = 0
    run_before[1:] = idx[:-1] - last_plain[:-1]
    quote = (a == ord('"')) & (run_before % 2 == 0)
    outside = np.cumsum(quote) % 2 == 0  # (a closing quote itself counts as outside: harmless)
    step = np.zeros(a.size, dtype=np.int32)
    step[((a == ord("[")) | (a == ord("{"))) & outside] = 1
    step[((a == ord("]")) | (a == ord("}"))) & outside] = -1
    return max(0, int(np.cumsum(step).max()))


def check_depth(body: bytes, max_depth: int) -> None:
    """Refuse a JSON body nested deeper than `max_depth` before a parser recurses into it. The
    bracket count bounds the depth, so most bodies are let through by two C-speed counts."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return
    depth = json_depth(body)
    if depth > max_depth:
        raise BadBody(f"JSON nested {depth} levels deep; at most {max_depth} are accepted")


def _clean(v: object) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return None if s == "" or _PLACEHOLDER.match(s) else s


def _no_constant(name: str):
    raise BadBody(f"invalid JSON: {name} is not a number JSON allows")


def parse_events(body: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> list[dict]:
    """An events body -> `pbx_events` rows (event_ts an aware datetime, params a JSON text)."""
    check_depth(body, max_depth)
    try:
        doc = json.loads(body.decode("utf-8-sig"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise BadBody("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadBody(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # belt and braces: the scan above should have refused it
        raise BadBody("JSON nested too deeply") from None
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise BadBody("empty event batch")
    if len(items) > MAX_EVENTS_PER_BODY:
        raise BadBody(f"{len(items)} events in one body; at most {MAX_EVENTS_PER_BODY} are "
                      "accepted", 413)
    out = []
    for i, ev in enumerate(items, start=1):
        where = f"event {i}: " if isinstance(doc, list) else ""
        try:
            out.append(events.parse_event(ev))
        except events.BadEvent as exc:
            raise BadBody(f"{where}{exc}") from None
    return out


def _xml_root(body: bytes, *, tolerate_seed_form: bool):
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml import ElementTree as DET

    def parse(data: bytes):
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)

    try:
        return parse(body)
    except DefusedXmlException as exc:
        raise BadBody(f"refused unsafe XML ({type(exc).__name__}: DTDs and entities are not "
                      "accepted)") from None
    except ParseError as exc:
        if not tolerate_seed_form:
            raise BadBody(f"not well-formed XML: {exc}") from None
        # The seed's feedback body (L7662-7672): `xml version="1.0"?` and an empty
        # `<parameters></parameters>` followed by the fields. Re-wrap the fields.
        text = body.decode("utf-8", errors="replace")
        text = re.sub(r"^\s*(<\?)?xml[^>\n]*\?>?", "", text, count=1)
        text = re.sub(r"<parameters\s*>\s*</parameters\s*>|<parameters\s*/>", "", text, count=1)
        try:
            return parse(f"<parameters>{text}</parameters>".encode())
        except (ParseError, DefusedXmlException):
            raise BadBody(f"not well-formed XML: {exc}") from None


def _unique_id(v: object) -> str:
    s = _clean(v)
    if s is None:
        raise ValueError("<unique_id> is missing or empty")
    return s


Value = Annotated[str | None, BeforeValidator(_clean)]


class Parameters(BaseModel):
    """The fields of a `<parameters>` body, each element's text (empty or an unreplaced
    `%PLACEHOLDER%`: None). `<unique_id>` must hold a value; `<caller>` must be there, even
    empty (an anonymous caller)."""

    model_config = ConfigDict(extra="ignore")

    unique_id: Annotated[str, BeforeValidator(_unique_id)] = Field(None, validate_default=True)
    caller: Value
    called: Value = None
    param1: Value = None
    param2: Value = None
    param3: Value = None
    param4: Value = None
    param5: Value = None
    servicecode: Value = None
    tenant: Value = None
    group: Value = None

    def rating(self) -> int | None:
        """Feedback: the caller's rating (param1), 1-6, else None."""
        try:
            r = int(self.param1 or "")
        except ValueError:
            return None
        return r if 1 <= r <= 6 else None


def _parameters(root) -> Parameters:
    try:
        return Parameters.model_validate({child.tag: child.text for child in root})
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "missing":
            raise BadBody(f"<{first['loc'][0]}> is missing") from None
        raise BadBody(first["msg"].removeprefix("Value error, ")) from None


def parse_parameters(body: bytes, *, feedback: bool) -> dict:
    """A dynamic-routing (`feedback=False`) or feedback `<parameters>` body -> its row."""
    if not body.strip():
        raise BadBody("empty body")
    tags = body.count(b"<")
    if tags > MAX_XML_TAGS:
        raise BadBody(f"{tags} XML tags; a request has at most {MAX_XML_TAGS}", 413)
    root = _xml_root(body, tolerate_seed_form=feedback)
    if root.tag != "parameters":
        raise BadBody(f"root element is <{root.tag}>, expected <parameters>")
    p = _parameters(root)
    row = p.model_dump(include={"unique_id", "caller", "called", "param1", "param2", "param3",
                                "param4", "param5"})
    row["tenant"] = p.tenant or "default"
    if feedback:
        row["grp"] = p.group or ""
        row["body_sha256"] = hashlib.sha256(body).hexdigest()
        row["rating"] = p.rating()
    else:
        row["servicecode"] = p.servicecode
    row["raw"] = body.decode("utf-8", errors="replace")
    return row
