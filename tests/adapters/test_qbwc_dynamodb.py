"""Web Connector credentials and sessions in DynamoDB (moto, the table of template.yaml); the in-memory fake
the service tests use passes the same contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.aws import LocalStack
from qbsync.adapters.dynamodb_qbd import DynamoExchangeStore
from qbsync.adapters.dynamodb_qbwc import (
    DynamoQbwcCredentialStore,
    DynamoQbwcLoginFailures,
    DynamoQbwcSessionStore,
)
from qbsync.domain.desktop import Asked, Exchange, ExchangeEntry, ExchangeState, ExchangeStore
from qbsync.domain.qbwc import (
    FAILURE_WINDOW,
    SESSION_TTL,
    QbwcCredential,
    QbwcCredentialStore,
    QbwcLoginFailures,
    QbwcSession,
    QbwcSessionStore,
    SessionProgress,
    hash_password,
    new_session,
    ticket_digest,
    verify_password,
)
from tests.unit.qbwc_fakes import (
    InMemoryExchanges,
    InMemoryQbwcCredentials,
    InMemoryQbwcLoginFailures,
    InMemoryQbwcSessions,
)

T0 = datetime(2026, 11, 23, 14, 5, 3, 250000, tzinfo=UTC)
CREDENTIAL = QbwcCredential(username="qbwc-acme-42", tenant_id="acme-42", password_hash="unused")


@pytest.fixture
def table(aws_env: LocalStack) -> str:
    return str(aws_env.ref("Table"))


@pytest.fixture
def client(aws_env: LocalStack) -> Any:
    return boto3.client("dynamodb")


def put_credential(client: Any, table: str, username: str, tenant_id: str, password_hash: str) -> None:
    """The credential item as the login-issuing code writes it (usecases/web_connector.py), put directly."""
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": f"QBWC#USER#{username}"},
            "sk": {"S": "QBWC#USER"},
            "tenant_id": {"S": tenant_id},
            "password_hash": {"S": password_hash},
        },
    )


def test_a_stored_credential_is_found_by_its_user_name(client: Any, table: str) -> None:
    stored = hash_password("s3cret")
    put_credential(client, table, "qbwc-acme-42", "acme-42", stored)
    put_credential(client, table, "qbwc-other", "other", hash_password("x"))
    found = DynamoQbwcCredentialStore(client, table).find("qbwc-acme-42")
    assert found == QbwcCredential(username="qbwc-acme-42", tenant_id="acme-42", password_hash=stored)
    assert verify_password("s3cret", found.password_hash)


@pytest.mark.parametrize("username", ["nobody", "QBWC-ACME-42", "qbwc-acme-4", "qbwc-acme-42 "])
def test_other_user_names_find_nothing(client: Any, table: str, username: str) -> None:
    put_credential(client, table, "qbwc-acme-42", "acme-42", hash_password("s3cret"))
    assert DynamoQbwcCredentialStore(client, table).find(username) is None


# --------------------------------------------- issued credentials and wrong logins: one contract, two stores


@pytest.fixture(params=["dynamodb", "in-memory"])
def credentials(request: pytest.FixtureRequest) -> QbwcCredentialStore:
    if request.param == "in-memory":
        return InMemoryQbwcCredentials()
    aws_env: LocalStack = request.getfixturevalue("aws_env")
    return DynamoQbwcCredentialStore(boto3.client("dynamodb"), str(aws_env.ref("Table")))


@pytest.fixture(params=["dynamodb", "in-memory"])
def failures(request: pytest.FixtureRequest) -> QbwcLoginFailures:
    if request.param == "in-memory":
        return InMemoryQbwcLoginFailures()
    aws_env: LocalStack = request.getfixturevalue("aws_env")
    return DynamoQbwcLoginFailures(boto3.client("dynamodb"), str(aws_env.ref("Table")))


def test_a_credential_put_again_replaces_the_one_before(credentials: QbwcCredentialStore) -> None:
    first = QbwcCredential(username="acme-42", tenant_id="acme-42", password_hash=hash_password("old"))
    second = QbwcCredential(username="acme-42", tenant_id="acme-42", password_hash=hash_password("new"))
    credentials.put(first)
    credentials.put(second)
    assert credentials.find("acme-42") == second
    assert credentials.find("acme-4") is None


def test_a_deleted_credential_is_found_no_more_and_deleting_again_is_no_error(
    credentials: QbwcCredentialStore,
) -> None:
    kept = QbwcCredential(username="other", tenant_id="other", password_hash=hash_password("pw"))
    credentials.put(
        QbwcCredential(username="acme-42", tenant_id="acme-42", password_hash=hash_password("pw"))
    )
    credentials.put(kept)
    credentials.delete("acme-42")
    credentials.delete("acme-42")
    assert credentials.find("acme-42") is None
    assert credentials.find("other") == kept


def test_failures_in_a_row_are_counted_per_user_name(failures: QbwcLoginFailures) -> None:
    assert failures.recent("acme-42", T0) == 0
    for minute in range(3):
        failures.add("acme-42", T0 + timedelta(minutes=minute))
    failures.add("other", T0)
    assert failures.recent("acme-42", T0 + timedelta(minutes=2)) == 3
    assert failures.recent("other", T0 + timedelta(minutes=2)) == 1
    assert failures.recent("ACME-42", T0) == 0


def test_a_row_of_failures_ends_a_window_after_its_last(failures: QbwcLoginFailures) -> None:
    failures.add("acme-42", T0)
    failures.add("acme-42", T0 + FAILURE_WINDOW - timedelta(milliseconds=1))
    last = T0 + FAILURE_WINDOW - timedelta(milliseconds=1)
    assert failures.recent("acme-42", last + FAILURE_WINDOW - timedelta(milliseconds=1)) == 2
    assert failures.recent("acme-42", last + FAILURE_WINDOW) == 0
    failures.add("acme-42", last + FAILURE_WINDOW)  # a new row
    assert failures.recent("acme-42", last + FAILURE_WINDOW) == 1


def test_clearing_forgets_the_failures_of_one_user_name(failures: QbwcLoginFailures) -> None:
    failures.add("acme-42", T0)
    failures.add("other", T0)
    failures.clear("acme-42")
    failures.clear("never-failed")
    assert (failures.recent("acme-42", T0), failures.recent("other", T0)) == (0, 1)


def test_the_failures_item_is_keyed_by_digest_and_expires_through_the_tables_ttl(
    client: Any, table: str
) -> None:
    DynamoQbwcLoginFailures(client, table).add("acme-42", T0)
    (item,) = client.scan(TableName=table)["Items"]
    assert "acme-42" not in item["pk"]["S"]
    assert int(item["expires_at"]["N"]) > (T0 + FAILURE_WINDOW).timestamp()


# ---------------------------------------------------------------- sessions: one contract, two stores


@pytest.fixture(params=["dynamodb", "in-memory"])
def sessions(request: pytest.FixtureRequest) -> QbwcSessionStore:
    if request.param == "in-memory":
        return InMemoryQbwcSessions()
    aws_env: LocalStack = request.getfixturevalue("aws_env")
    return DynamoQbwcSessionStore(boto3.client("dynamodb"), str(aws_env.ref("Table")))


def test_a_session_round_trips_with_expiry_to_the_second(sessions: QbwcSessionStore) -> None:
    session = new_session(CREDENTIAL, T0)
    sessions.add(session)
    stored = sessions.get(session.ticket)
    assert stored is not None
    assert (stored.ticket, stored.tenant_id, stored.username) == (session.ticket, "acme-42", "qbwc-acme-42")
    assert stored.created_at == T0
    assert stored.expires_at == (T0 + SESSION_TTL).replace(microsecond=0)
    assert stored.expires_at.tzinfo is not None


def test_sessions_are_kept_apart_and_deleted_one_by_one(sessions: QbwcSessionStore) -> None:
    first, second = new_session(CREDENTIAL, T0), new_session(CREDENTIAL, T0)
    sessions.add(first)
    sessions.add(second)
    sessions.delete(first.ticket)
    assert sessions.get(first.ticket) is None
    assert sessions.get(second.ticket) is not None
    sessions.delete(first.ticket)  # deleting twice is not an error
    sessions.delete("never-issued")


def test_an_unknown_ticket_has_no_session(sessions: QbwcSessionStore) -> None:
    assert sessions.get("never-issued") is None


def test_an_expired_session_is_still_returned_for_the_caller_to_judge(sessions: QbwcSessionStore) -> None:
    old = new_session(CREDENTIAL, T0 - timedelta(days=2))
    sessions.add(old)
    stored = sessions.get(old.ticket)
    assert stored is not None
    assert not stored.is_active(T0)


def test_a_session_is_never_overwritten(sessions: QbwcSessionStore) -> None:
    session = new_session(CREDENTIAL, T0)
    sessions.add(session)
    intruder = QbwcSession(session.ticket, "intruder", "x", T0, T0 + SESSION_TTL)
    with pytest.raises((ValueError, ClientError)):  # each store refuses in its own way
        sessions.add(intruder)
    stored = sessions.get(session.ticket)
    assert stored is not None
    assert stored.tenant_id == "acme-42"


def test_a_session_keeps_the_error_get_last_error_is_to_say(sessions: QbwcSessionStore) -> None:
    whole_second = T0.replace(microsecond=0)  # what is stored of the expiry: the sessions compare equal
    session, other = new_session(CREDENTIAL, whole_second), new_session(CREDENTIAL, whole_second)
    sessions.add(session)
    sessions.add(other)
    assert [sessions.get(s.ticket) for s in (session, other)] == [session, other]  # last_error ""
    refusal = (
        "QuickBooks Desktop 2014 or newer is needed; Caf\u00e9 & Co's file is open in QuickBooks Pro 2006."
    )
    sessions.set_last_error(session.ticket, refusal)
    stored = sessions.get(session.ticket)
    assert stored is not None
    assert stored.last_error == refusal
    assert (stored.tenant_id, stored.expires_at) == ("acme-42", session.expires_at)
    assert sessions.get(other.ticket) == other


def test_setting_the_error_of_a_closed_or_unknown_session_creates_none(sessions: QbwcSessionStore) -> None:
    closed = new_session(CREDENTIAL, T0)
    sessions.add(closed)
    sessions.delete(closed.ticket)
    sessions.set_last_error(closed.ticket, "too late")
    sessions.set_last_error("never-issued", "nobody")
    assert sessions.get(closed.ticket) is None
    assert sessions.get("never-issued") is None


# ---------------------------------------------------------------- the stored item


def test_the_session_item_holds_no_ticket_and_expires_through_the_tables_ttl(client: Any, table: str) -> None:
    session = new_session(CREDENTIAL, T0)
    DynamoQbwcSessionStore(client, table).add(session)
    items = client.scan(TableName=table)["Items"]
    assert len(items) == 1
    (item,) = items
    assert item["pk"] == {"S": f"QBWC#SESSION#{ticket_digest(session.ticket)}"}
    assert item["sk"] == {"S": "QBWC#SESSION"}
    assert session.ticket not in str(item)
    assert item["expires_at"] == {"N": str(int((T0 + SESSION_TTL).timestamp()))}
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_a_sessions_progress_round_trips_and_a_closed_session_gets_none(sessions: QbwcSessionStore) -> None:
    session = new_session(CREDENTIAL, T0)
    sessions.add(session)
    assert sessions.get(session.ticket).progress == SessionProgress()  # type: ignore[union-attr]
    progress = SessionProgress(
        messages=3, requests=512, sent=500, synced=497, failed=3, rounds=2, unanswered_in_a_row=1,
        company_checked=True, taxable_code="Tax", non_taxable_code=None, finished=True,
        deferred=("invoice/i-1", "invoice/i-2"),
    )  # fmt: skip
    sessions.save_progress(session.ticket, progress)
    assert sessions.get(session.ticket).progress == progress  # type: ignore[union-attr]
    sessions.delete(session.ticket)
    sessions.save_progress(session.ticket, progress)
    assert sessions.get(session.ticket) is None


# ---------------------------------------------------------------- exchanges: one contract, two stores


@pytest.fixture(params=["dynamodb", "in-memory"])
def exchanges(request: pytest.FixtureRequest) -> ExchangeStore:
    if request.param == "in-memory":
        return InMemoryExchanges()
    aws_env: LocalStack = request.getfixturevalue("aws_env")
    return DynamoExchangeStore(boto3.client("dynamodb"), str(aws_env.ref("Table")))


def exchange(exchange_id: str = "{A}", entries: int = 2) -> Exchange:
    return Exchange(
        "t-1",
        exchange_id,
        "digest",
        ExchangeState.SENT,
        T0,
        tuple(
            ExchangeEntry(str(n), Asked.WRITE, "invoice", f"i-{n}", 3, "syncing", "add", name="")
            for n in range(1, entries + 1)
        ),
    )


def test_an_exchange_round_trips_and_its_answer_is_stored_once(exchanges: ExchangeStore) -> None:
    assert exchanges.current("t-1") is None
    sent = exchange(entries=250)
    exchanges.put(sent)
    assert exchanges.current("t-1") == sent
    assert exchanges.current("t-2") is None
    answer = "<QBXML>" + "<InvoiceAddRs statusCode='0'/>" * 250 + "</QBXML>"
    assert exchanges.answer("t-1", "{A}", answer)
    assert not exchanges.answer("t-1", "{A}", "a second answer")
    assert not exchanges.answer("t-1", "{B}", answer)
    stored = exchanges.current("t-1")
    assert stored is not None
    assert (stored.state, stored.answer) == (ExchangeState.ANSWERED, answer)
    assert not exchanges.close("t-1", "{A}", ExchangeState.LOST)  # answered: not lost
    assert exchanges.close("t-1", "{A}", ExchangeState.APPLIED)
    assert not exchanges.close("t-1", "{A}", ExchangeState.APPLIED)  # applied once


def test_a_lost_exchange_still_takes_its_late_answer_and_a_new_one_replaces_it(
    exchanges: ExchangeStore,
) -> None:
    exchanges.put(exchange())
    assert not exchanges.close("t-1", "{A}", ExchangeState.APPLIED)  # nothing to apply yet
    assert exchanges.close("t-1", "{A}", ExchangeState.LOST)
    assert exchanges.answer("t-1", "{A}", "<QBXML/>")
    exchanges.put(exchange("{B}", entries=1))
    current = exchanges.current("t-1")
    assert current is not None
    assert (current.exchange_id, current.state, current.answer) == ("{B}", ExchangeState.SENT, None)
    assert not exchanges.answer("t-1", "{A}", "<QBXML/>")
