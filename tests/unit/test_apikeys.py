from __future__ import annotations

import hashlib

import pytest

from qbsync.domain import apikeys
from qbsync.usecases.apikeys import authenticate, issue_api_key
from tests.unit.fakes import FixedClock, InMemoryApiKeys


def test_issued_key_is_stored_only_as_its_digest() -> None:
    repo = InMemoryApiKeys()
    plaintext, key = issue_api_key(repo, FixedClock(), "billing-app")
    assert plaintext.startswith(f"qbs_{key.key_id}_")
    assert len(plaintext) > 40
    stored = repo.items[key.key_hash]
    assert stored.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in repr(stored)


def test_two_keys_differ() -> None:
    repo = InMemoryApiKeys()
    a, _ = issue_api_key(repo, FixedClock(), "a")
    b, _ = issue_api_key(repo, FixedClock(), "b")
    assert a != b
    assert len(repo.items) == 2


@pytest.mark.parametrize("header", ["Bearer {key}", "bearer {key}", "{key}", "  Bearer   {key}  "])
def test_presented_key_is_accepted_with_or_without_bearer(header: str) -> None:
    repo = InMemoryApiKeys()
    plaintext, key = issue_api_key(repo, FixedClock(), "host")
    found = authenticate(repo, header.format(key=plaintext))
    assert found is not None
    assert found.key_id == key.key_id


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer qbs_unknown_key", "qbs_" + "x" * 300]
)
def test_missing_malformed_or_unknown_keys_are_refused(header: str | None) -> None:
    repo = InMemoryApiKeys()
    issue_api_key(repo, FixedClock(), "host")
    assert authenticate(repo, header) is None


def test_revoked_key_is_refused() -> None:
    repo = InMemoryApiKeys()
    plaintext, key = issue_api_key(repo, FixedClock(), "host")
    repo.items[key.key_hash] = apikeys.ApiKey(
        key.key_id, key.key_hash, key.label, key.created_at, revoked=True
    )
    assert authenticate(repo, f"Bearer {plaintext}") is None
