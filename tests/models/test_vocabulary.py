from __future__ import annotations

from pathlib import Path

import pytest

from pbxlens.models import vocabulary

PAIRS = [
    tuple(part.strip() for part in line.split("|"))
    for line in (Path(__file__).parent / "vocabulary_pairs.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize("scope,spelling,code", PAIRS)
def test_spelling_maps_to_code(scope, spelling, code):
    assert vocabulary.normalize(scope, spelling) == code


def test_every_term_has_labels_and_unique_codes():
    for scope, terms in vocabulary.SCOPES.items():
        codes = [t.code for t in terms]
        assert len(codes) == len(set(codes)), scope
        assert all(t.en and t.it for t in terms)


def test_aliases_are_unambiguous_within_a_scope():
    seen = {}
    for scope, terms in vocabulary.SCOPES.items():
        for t in terms:
            for spelling in (t.code, *t.aliases):
                k = (scope, vocabulary.key(spelling))
                assert seen.setdefault(k, t.code) == t.code, k


def test_blank_is_none():
    assert vocabulary.normalize("status", "  ") is None
