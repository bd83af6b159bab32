"""Free-text search of tickets and trace records that respects the privacy right.

A user with the right searches the stored text. A user without it sees external numbers with
their last three digits as `xxx`, and may search only by what they see: otherwise typing a full
number and watching which records match would reveal the hidden digits. Masking keeps the
length of a text and changes only digits, so:
- a search text with no digit and no `x` matches the stored text exactly where it matches the
  masked text (SQL alone answers it);
- any other text is answered in two steps: SQL keeps the candidates whose stored text matches
  the pattern with every digit and `x` as a one-character wildcard (a superset), then Python
  keeps those whose masked text contains the search text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa

from pbxlens.store.privacy import mask_number, mask_text

ESCAPE = "\\"
MAX_MATCHES = 10_000  # a masked match looks at the newest candidates only (bounded work)
_MASKABLE = re.compile(r"[0-9x]", re.IGNORECASE)


def clean(text: str | None) -> str | None:
    s = (text or "").strip().lower()
    return s or None


def needs_masked_match(text: str, privacy: bool) -> bool:
    """
    Example:
        >>> needs_masked_match("rossi", False), needs_masked_match("0461", False)
        (False, True)
        >>> needs_masked_match("0461", True)
        False
    """
    return not privacy and _MASKABLE.search(text) is not None


def pattern(text: str, *, wildcard_digits: bool = False) -> str:
    """A LIKE pattern (escape character `\\`) for "contains `text`".

    Example:
        >>> pattern("50%_x1"), pattern("50%_x1", wildcard_digits=True)
        ('%50\\\\%\\\\_x1%', '%__\\\\%\\\\___%')
    """
    out = []
    for ch in text:
        if ch in "%_\\":
            out.append(ESCAPE + ch)
        elif wildcard_digits and _MASKABLE.match(ch):
            out.append("_")
        else:
            out.append(ch)
    return "%" + "".join(out) + "%"


def like_any(text: str, columns: Iterable, *, wildcard_digits: bool = False):
    """`lower(coalesce(col, '')) LIKE pattern` for any of `columns`, the pattern bound."""
    p = pattern(text, wildcard_digits=wildcard_digits)
    return sa.or_(*(sa.func.lower(sa.func.coalesce(c, "")).like(p, escape=ESCAPE) for c in columns))


def visible_contains(text: str, texts: Iterable[str | None] = (),
                     numbers: Iterable[str | None] = ()) -> bool:
    """Whether `text` is in one of `texts` (masked as free text) or `numbers` (masked as phone
    numbers), as a user without the privacy right sees them.

    Example:
        >>> visible_contains("127xxx", ["call 0461 127456"]), visible_contains("127456", ["0461127456"])
        (True, False)
        >>> visible_contains("0461127xxx", numbers=["0461127456"])
        True
    """
    shown = [mask_text(t) for t in texts] + [mask_number(n) for n in numbers]
    return any(text in s.lower() for s in shown if s)
