from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from qbsync.domain.connections import (
    UPKEEP_AFTER,
    Connection,
    ConnectionStatus,
    NotConnectedError,
    OAuthProviderError,
    TokenSet,
)
from qbsync.metrics import EmfMetrics
from qbsync.usecases.tokens import TokenKeeper
from tests.unit.connection_fakes import (
    FakeIntuit,
    InMemoryConnections,
    InMemoryTokens,
    RecordingEvents,
    expired,
)
from tests.unit.fakes import FixedClock, InMemoryLease
from tests.unit.published_metrics import during_an_invocation

REALM = "123"


def setup(
    fresh: bool = True,
) -> tuple[TokenKeeper, FakeIntuit, InMemoryTokens, InMemoryConnections, RecordingEvents]:
    clock = FixedClock()
    intuit, store, connections, events = (
        FakeIntuit(clock),
        InMemoryTokens(),
        InMemoryConnections(),
        RecordingEvents(),
    )
    intuit.codes["c"] = REALM
    tokens = intuit.exchange("c", REALM, "", clock.now())
    store.save("t1", tokens if fresh else expired(tokens, clock.now()), None)
    connections.put(Connection("t1", ConnectionStatus.CONNECTED, REALM))
    keeper = TokenKeeper(
        store,
        InMemoryLease(),
        intuit,
        connections,
        events,
        clock,
        wait_step=0.001,
        sleep=lambda s: None,
        metrics=EmfMetrics(),
    )
    return keeper, intuit, store, connections, events


def test_a_fresh_token_is_used_as_is() -> None:
    keeper, intuit, *_ = setup(fresh=True)
    assert keeper.access_token("t1").access_token == "access-1"
    assert intuit.refreshes == 0


def test_a_token_near_expiry_is_refreshed_and_the_rotation_stored_first() -> None:
    keeper, intuit, store, *_ = setup(fresh=False)
    tokens = keeper.access_token("t1")
    assert (tokens.access_token, tokens.refresh_token, tokens.version) == ("access-2", "refresh-2", 1)
    assert store.load("t1") == tokens
    assert intuit.refreshes == 1
    assert keeper.lease.acquire("t1", "another-worker", FixedClock().now(), timedelta(seconds=1))  # released


def test_fifty_concurrent_callers_cause_exactly_one_refresh() -> None:
    keeper, intuit, _store, *_ = setup(fresh=False)
    keeper = replace(keeper, sleep=lambda s: threading.Event().wait(0.001))
    keepers = [keeper] * 50  # one shared keeper, as the threads of one container share it
    results: list[TokenSet] = []
    barrier = threading.Barrier(50)

    def call(k: TokenKeeper) -> None:
        barrier.wait()
        results.append(k.access_token("t1"))

    threads = [threading.Thread(target=call, args=(k,)) for k in keepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert intuit.refreshes == 1
    assert {r.access_token for r in results} == {"access-2"}
    assert len(results) == 50


def test_after_a_401_the_token_is_refreshed_even_if_it_looks_fresh() -> None:
    keeper, intuit, store, *_ = setup(fresh=True)
    used = store.load("t1")
    assert used is not None
    assert keeper.after_unauthorized("t1", used).access_token == "access-2"
    # a second worker that saw the same 401 gets the new token without refreshing again
    assert keeper.after_unauthorized("t1", used).access_token == "access-2"
    assert intuit.refreshes == 1


def test_invalid_grant_after_another_worker_rotated_is_not_a_disconnect() -> None:
    keeper, _intuit, store, connections, events = setup(fresh=False)
    stale = store.load("t1")
    assert stale is not None
    keeper.access_token("t1")  # rotates: refresh-1 is now spent
    # Our worker still holds the old view and reaches Intuit with the spent token.
    store.items["t1"] = replace(store.items["t1"], access_expires_at=stale.access_expires_at)
    tokens = keeper.refresh("t1", stale)
    assert tokens.refresh_token == "refresh-2"
    assert connections.get("t1").status is ConnectionStatus.CONNECTED
    assert events.published == []


def test_a_refresh_token_revoked_elsewhere_means_needs_reauth_once() -> None:
    keeper, intuit, _store, connections, events = setup(fresh=False)
    intuit.valid_refresh.clear()  # the tenant disconnected the app at Intuit
    for _ in range(3):  # callers keep trying: one state change, one event, no refresh storm
        with pytest.raises(NotConnectedError):
            keeper.access_token("t1")
    connection = connections.get("t1")
    assert connection.status is ConnectionStatus.NEEDS_REAUTH
    assert connection.last_error.code == "invalid_grant"  # type: ignore[union-attr]
    assert [e[2]["status"] for e in events.published] == ["needs_reauth"]
    assert intuit.refreshes == 1


def test_no_tokens_means_not_connected() -> None:
    keeper, *_ = setup()
    with pytest.raises(NotConnectedError):
        keeper.access_token("nobody")


def test_a_lease_held_too_long_times_out_clearly() -> None:
    keeper, intuit, *_ = setup(fresh=False)
    assert keeper.lease.acquire("t1", "stuck-worker", FixedClock().now(), timedelta(hours=1))
    slow = replace(keeper, wait_limit=0.01)
    with pytest.raises(TimeoutError, match="did not finish"):
        slow.access_token("t1")
    assert intuit.refreshes == 0


def test_upkeep_leaves_a_recently_used_refresh_token_alone() -> None:
    keeper, intuit, *_ = setup(fresh=True)
    assert keeper.upkeep("t1") is False
    assert intuit.refreshes == 0


def test_upkeep_uses_a_refresh_token_that_rested_a_week() -> None:
    keeper, intuit, store, *_ = setup(fresh=True)
    keeper.clock.advance(UPKEEP_AFTER + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert keeper.upkeep("t1") is True
    assert intuit.refreshes == 1
    assert store.load("t1").refresh_token == "refresh-2"  # type: ignore[union-attr]


def test_a_token_refused_right_after_its_refresh_means_needs_reauth_once() -> None:
    keeper, _, store, connections, events = setup(fresh=False)
    refreshed = keeper.after_unauthorized("t1", store.load("t1"))  # type: ignore[arg-type]
    keeper.refused_after_refresh("t1", refreshed)
    keeper.refused_after_refresh("t1", refreshed)
    connection = connections.get("t1")
    assert connection.status is ConnectionStatus.NEEDS_REAUTH
    assert connection.last_error.code == "access_refused"  # type: ignore[union-attr]
    assert [e[2]["status"] for e in events.published] == ["needs_reauth"]
    with pytest.raises(NotConnectedError):  # and no more refreshes at Intuit
        keeper.after_unauthorized("t1", refreshed)


def test_a_refusal_of_tokens_someone_has_since_rotated_changes_nothing() -> None:
    keeper, _, store, connections, events = setup()
    used = store.load("t1")
    assert used is not None
    keeper.after_unauthorized("t1", used)  # someone else's refresh, after `used` was refused
    keeper.refused_after_refresh("t1", used)
    assert connections.get("t1").status is ConnectionStatus.CONNECTED
    assert events.published == []


def test_each_refresh_is_counted_by_outcome_and_a_lost_connection_as_needing_reauth() -> None:
    keeper, intuit, store, *_ = setup(fresh=False)

    def refresh_again() -> TokenSet:
        current = store.load("t1")
        assert current is not None
        return keeper.refresh("t1", current, force=True)

    def refreshes() -> None:
        keeper.access_token("t1")  # near expiry: refreshed
        intuit.down = True
        with pytest.raises(OAuthProviderError):
            refresh_again()
        intuit.down = False
        intuit.valid_refresh.clear()  # the tenant disconnected the app at Intuit
        with pytest.raises(NotConnectedError):
            refresh_again()

    published = during_an_invocation(refreshes)
    outcomes = ("refreshed", "failed", "invalid_grant")
    assert [published.total("TokenRefreshes", outcome=o) for o in outcomes] == [1, 1, 1]
    assert published.total("NeedsReauth", reason="invalid_grant") == 1
    assert published.properties("tenant_id") == {"t1"}
