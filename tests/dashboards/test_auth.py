"""Passwords, throttling, tokens, sessions and the secret key, on a fresh store each."""

from __future__ import annotations

import pytest

from pbxlens import PbxlensError
from pbxlens.store import Stores as Store
from pbxlens.store import users as auth


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "web.duckdb")
    yield s
    s.close()


def test_password_hash_is_salted_scrypt_and_verifies():
    a, b = auth.hash_password("s3cret-pass"), auth.hash_password("s3cret-pass")
    assert a != b  # per-user salt
    assert a.startswith("scrypt$")
    assert "s3cret-pass" not in a
    assert auth.verify_password("s3cret-pass", a)
    assert not auth.verify_password("s3cret-pasS", a)
    assert not auth.verify_password("s3cret-pass", "md5$abc")


def test_authenticate_and_throttle_per_user_and_ip(store):
    auth.create_user(store, "ann", "password-ann", "supervisor")
    assert auth.authenticate(store, "ann", "password-ann", "10.0.0.1").username == "ann"
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError, match="wrong"):
            auth.authenticate(store, "ann", "nope", "10.0.0.1")
    # locked for this (user, ip), even with the right password
    with pytest.raises(auth.AuthError, match="too many"):
        auth.authenticate(store, "ann", "password-ann", "10.0.0.1")
    # another IP is not locked
    assert auth.authenticate(store, "ann", "password-ann", "10.0.0.2").username == "ann"


def test_unknown_and_disabled_users_are_refused(store):
    u = auth.create_user(store, "bob", "password-bob", "operator")
    with pytest.raises(auth.AuthError):
        auth.authenticate(store, "nobody", "password-bob", "1.1.1.1")
    sid = auth.open_session(store, u)
    assert auth.session_user(store, sid).id == u.id
    auth.update_user(store, u.id, disabled=True)
    assert auth.session_user(store, sid) is None  # sessions end with the account
    with pytest.raises(auth.AuthError):
        auth.authenticate(store, "bob", "password-bob", "1.1.1.1")


def test_user_validation(store):
    with pytest.raises(PbxlensError, match="role"):
        auth.create_user(store, "x", "password-x", "root")
    with pytest.raises(PbxlensError, match="8 characters"):
        auth.create_user(store, "x", "short", "admin")
    auth.create_user(store, "x", "password-x", "admin")
    with pytest.raises(PbxlensError, match="exists"):
        auth.create_user(store, "x", "password-y", "admin")


def test_sessions_close_and_tokens_compare(store):
    u = auth.create_user(store, "cat", "password-cat", "finance")
    sid = auth.open_session(store, u)
    auth.close_session(store, sid)
    assert auth.session_user(store, sid) is None
    tok = auth.issue_token(store, u.id)
    assert auth.token_user(store, tok).username == "cat"
    assert auth.token_user(store, tok[:-1] + ("A" if tok[-1] != "A" else "B")) is None
    assert auth.token_user(store, "pbx_999_x") is None
    assert auth.token_user(store, "garbage") is None
    tok2 = auth.issue_token(store, u.id)  # a new token revokes the old one
    assert auth.token_user(store, tok) is None and auth.token_user(store, tok2) is not None


def test_secret_key_generated_once_and_configured_wins(store):
    k1 = auth.secret_key(store)
    assert len(k1) == 64 and auth.secret_key(store) == k1
    assert auth.secret_key(store, "from-env") == "from-env"
