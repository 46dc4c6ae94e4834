"""The issue's done-when figure for automatch, on the local stack as `make run` starts it: a QuickBooks Online
sandbox company seeded with local/seed_matching.py's planted company (its QuickBooks side), the host app's
records pushed as drafts (send_mode review), the mirror loaded at connect, POST /matches, then

- precision and recall of the matches (proposals included) against the planted truth, and whether every
  planted ambiguous record is listed as ambiguous;
- a person's decisions: the proposals the truth confirms accepted, the others rejected; each ambiguous record
  given the candidate of its own name (else the first), and a record whose object another record took
  (the host app has it twice) deleted, as a person merging the two would;
- every draft sent, and the objects QuickBooks then holds: `duplicates` counts the created ones whose name
  (normalised as automatch compares names), email or SKU another object of their list already has.

`run` starts its own stack (`python -m bench --matching`, at the issue's sizes); `run_on` takes a running one
(tests/e2e/test_matching_done_when.py, smaller).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx

from local import stack as local_stack
from local.connect import consent
from local.seed_matching import CUSTOMERS, ITEMS, VENDORS, PlantedCompany, PlantedList, planted_company
from qbsync.domain.matching import normalise
from qbsync.domain.mirror import ListType, fold
from qbsync.domain.records import Customer, Item, Vendor

TENANT = "matching"
ENTITY = {"customer": "Customer", "item": "Item", "vendor": "Vendor"}
BULK = 500
PRECISION_TARGET, RECALL_TARGET = 0.99, 0.95
SETTINGS = {
    "send_mode": "review",
    "default_income_account": "Services",
    "sync_payments_from_quickbooks": False,
}


@dataclass(frozen=True)
class MatchingFigures:
    records: int  # host records
    matched: int  # results matched (proposals included)
    right: int  # of those, the planted pair
    decidable: int  # planted pairs the rules can find
    right_decidable: int
    ambiguous_planted: int
    ambiguous_listed: int  # planted ambiguous records listed as ambiguous
    accepted: int
    created: int  # objects the sync created in QuickBooks
    duplicates: int  # created objects with a name, email or SKU QuickBooks had already (or twice)
    failed: int  # records that failed when sent (a name QuickBooks holds for an inactive or linked object)
    seconds: float
    phases: dict[str, float]  # seconds from the start to the end of each phase

    @property
    def precision(self) -> float:
        return self.right / self.matched if self.matched else 1.0

    @property
    def recall(self) -> float:
        return self.right_decidable / self.decidable if self.decidable else 1.0

    @property
    def ok(self) -> bool:
        return (
            self.precision >= PRECISION_TARGET
            and self.recall >= RECALL_TARGET
            and self.ambiguous_listed == self.ambiguous_planted
            and self.duplicates == 0
        )


def _data(record: Customer | Item | Vendor) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def _entity(planted: PlantedList, entry: Any) -> dict[str, Any]:
    if planted.record_type == "item":
        body: dict[str, Any] = {"Name": entry.name, "Type": "Service", "IncomeAccountRef": {"value": "1001"}}
        if entry.sku:
            body["Sku"] = entry.sku
        return body
    body = {"DisplayName": entry.name}
    if entry.email:
        body["PrimaryEmailAddr"] = {"Address": entry.email}
    return body


# QuickBooks Online keeps names unique, ignoring case, across customers, vendors and employees (and among
# items): a planted name it already has ("Acme Corp" beside "ACME CORP", or a customer and a vendor of one
# name) is entered with a company suffix added, which automatch's `normalise` drops: the planted truth holds.
UNIQUE_SUFFIXES = ("", ", Inc.", " LLC", " Ltd", " Co.")


def seed(qbo: httpx.Client, realm: str, planted: PlantedList) -> dict[str, str]:
    """The planted QuickBooks side of one list entered in the sandbox company as a user would: planted id ->
    its Id."""
    ids: dict[str, str] = {}
    url = f"/_sandbox/companies/{realm}/entities/{ENTITY[planted.record_type]}"
    for entry in planted.entries:
        for suffix in UNIQUE_SUFFIXES:
            answer = qbo.post(url, json=_entity(planted, replace(entry, name=entry.name + suffix)))
            if answer.status_code != 400 or '"6240"' not in answer.text:
                break
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"seeding {entry.name!r}: {answer.status_code} {answer.text[:300]}")
        stored = answer.json()[ENTITY[planted.record_type]]
        ids[entry.quickbooks_id] = str(stored["Id"])
        if not entry.active:
            change = {
                "Id": stored["Id"],
                "SyncToken": stored["SyncToken"],
                "sparse": True,
                "Active": False,
            }
            qbo.post(url, json=change).raise_for_status()
    return ids


def _push(api: httpx.Client, record_type: str, records: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """Push the records; the ids stored. A record refused for a name another one holds (the host app has
    the same customer twice, spelled alike) is left out, as the host app is told; any other refusal is a
    fault of this bench."""
    stored: set[str] = set()
    for start in range(0, len(records), BULK):
        page = [{"id": rid, "data": data} for rid, data in records[start : start + BULK]]
        answer = api.post(f"/v1/tenants/{TENANT}/records/{record_type}", json={"records": page})
        answer.raise_for_status()
        for result in answer.json()["results"]:
            if result["status"] in ("created", "updated"):
                stored.add(result["id"])
            elif [e.get("code") for e in result.get("errors", [])] != ["name_clash"]:
                raise RuntimeError(f"{record_type}: {result}")
    return stored


def _paged(api: httpx.Client, path: str, **params: str) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        answer = api.get(path, params={**params, "limit": "500", **({"cursor": cursor} if cursor else {})})
        answer.raise_for_status()
        page = answer.json()
        yield from page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return


def _match(api: httpx.Client, record_types: list[str]) -> None:
    """POST /matches (answered at once), then wait for the worker to finish the run."""
    asked = api.post(f"/v1/tenants/{TENANT}/matches", json={"record_types": record_types})
    asked.raise_for_status()
    run_id = asked.json()["run_id"]

    def done() -> bool:
        run = api.get(f"/v1/tenants/{TENANT}/matches", params={"limit": "1"}).json()["run"]
        if run["run_id"] == run_id and run["state"] == "failed":
            raise RuntimeError(f"the match failed: {run['error']}")
        return bool(run["run_id"] == run_id and run["state"] == "done")

    _wait("the match run", done, timeout=900)


def _wait(what: str, done: Any, timeout: float = 120) -> None:
    until = time.monotonic() + timeout
    while not done():
        if time.monotonic() > until:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)


def _truth(planted: PlantedList, stored: set[str]) -> tuple[dict[str, str], set[str]]:
    """Of the records stored: planted id of the object each is, where one is; and those that must be listed
    ambiguous. A record the host app has twice is ambiguous only while its twin was stored too; else it is a
    pair like any other."""
    truth = {rid: q for rid, q in {**planted.pairs, **planted.undecidable}.items() if rid in stored}
    ambiguous: set[str] = set()
    for rid, objects in planted.ambiguous.items():
        if rid not in stored:
            continue
        twins = [r for r, o in planted.ambiguous.items() if o == objects and r != rid and r in stored]
        if len(objects) > 1 or twins:
            ambiguous.add(rid)
        else:
            (truth[rid],) = objects
    return truth, ambiguous


def _pick(result: dict[str, Any]) -> str | None:
    """A person's pick among an ambiguous record's candidates: the one of its own name, else the first."""
    own = normalise(result["name"])
    ids = [c["quickbooks_id"] for c in result["candidates"]]
    named = [c["quickbooks_id"] for c in result["candidates"] if c["name"] and normalise(c["name"]) == own]
    return (named or ids or [None])[0]


def _duplicates(qbo: httpx.Client, realm: str, seeded: set[str]) -> tuple[int, int]:
    """(objects created, created objects whose normalised name, email or SKU another object of their list
    has)."""
    created = duplicates = 0
    for entity in ENTITY.values():
        held = qbo.get(f"/_sandbox/companies/{realm}/entities/{entity}").json()[entity]
        keys: Counter[tuple[str, str]] = Counter()
        for obj in held:
            for key in _keys(obj):
                keys[key] += 1
        for obj in held:
            if str(obj["Id"]) in seeded:
                continue
            created += 1
            duplicates += any(keys[key] > 1 for key in _keys(obj))
    return created, duplicates


def _keys(obj: dict[str, Any]) -> list[tuple[str, str]]:
    name = obj.get("DisplayName") or obj.get("Name") or ""
    keys = [("name", normalise(name))]
    email = (obj.get("PrimaryEmailAddr") or {}).get("Address")
    if email:
        keys.append(("email", fold(email).strip()))
    if obj.get("Sku"):
        keys.append(("sku", fold(obj["Sku"]).strip()))
    return keys


def run_on(  # noqa: PLR0915 - one scenario, told in order
    stack: local_stack.RunningStack, company: PlantedCompany
) -> MatchingFigures:
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    api = httpx.Client(base_url=stack.api_url, headers=headers, timeout=120)
    qbo = httpx.Client(base_url=stack.qbo.url, timeout=60)
    api.post(
        "/v1/tenants", json={"id": TENANT, "name": "Matching Books", "edition": "qbo"}
    ).raise_for_status()
    api.put(f"/v1/tenants/{TENANT}/settings", json=SETTINGS).raise_for_status()
    realm = stack.qbo.sandbox.add_company("Matching Books").realm_id
    ids = {p.record_type: seed(qbo, realm, p) for p in company.lists()}
    assert httpx.get(consent(stack, TENANT, realm)).status_code == 200

    def loaded() -> bool:
        return all(
            api.get(f"/v1/tenants/{TENANT}/quickbooks/{t}", params={"limit": "1"}).json()["loaded"]
            for t in (ListType.CUSTOMER, ListType.ITEM, ListType.VENDOR)
        )

    _wait("the lists to be read at connect", loaded)
    phases = {"seeded and read": time.monotonic() - started}
    pushed: dict[str, set[str]] = {}
    for planted in company.lists():
        own = ids[planted.record_type]
        name = "name" if planted.record_type == "item" else "display_name"
        extra = {"kind": "service"} if planted.record_type == "item" else {}
        # The records linked before (to the objects QuickBooks has that no host record may match) first:
        # a host record of the same name is then refused at its push, as the one list of names requires.
        holders = [
            (f"{holder}-{planted.record_type}", {name: f"Held {holder}", **extra, "quickbooks_id": own[qid]})
            for qid, holder in planted.links.items()
        ]
        _push(api, planted.record_type, holders)
        records = [(rid, _data(record)) for rid, record in planted.records]
        pushed[planted.record_type] = _push(api, planted.record_type, records)

    phases["pushed"] = time.monotonic() - started
    _match(api, ["customer", "item", "vendor"])
    phases["matched"] = time.monotonic() - started
    matched = right = right_decidable = decidable = ambiguous_planted = ambiguous_listed = accepted = 0
    for planted in company.lists():
        own, stored = ids[planted.record_type], pushed[planted.record_type]
        truth, ambiguous = _truth(planted, stored)
        truth = {rid: own[q] for rid, q in truth.items()}
        results = {
            r["record_id"]: r
            for r in _paged(api, f"/v1/tenants/{TENANT}/matches", record_type=planted.record_type)
        }
        decidable += len([r for r in planted.pairs if r in stored])
        ambiguous_planted += len(ambiguous)
        for rid, result in results.items():
            if result["found"] == "linked":
                continue
            if result["found"] == "matched":
                matched += 1
                pick = result["candidates"][0]["quickbooks_id"]
                if truth.get(rid) == pick:
                    right += 1
                    right_decidable += rid in planted.pairs
                    if result["state"] == "proposed":
                        accepted += _decide(api, result, "accept")
                elif result["state"] == "proposed":
                    _decide(api, result, "reject")
            elif result["found"] == "ambiguous":
                ambiguous_listed += rid in ambiguous
                pick = _pick(result)
                if pick is not None and not _decide(api, result, "accept", pick):
                    api.delete(f"/v1/tenants/{TENANT}/records/{planted.record_type}/{rid}").raise_for_status()
                    continue
                accepted += 1
    phases["decided"] = time.monotonic() - started
    drafts = [
        {"type": t, "id": r["id"]}
        for t in ("customer", "item", "vendor")
        for r in _paged(api, f"/v1/tenants/{TENANT}/records/{t}", state="draft")
    ]
    for start in range(0, len(drafts), BULK):
        api.post(
            f"/v1/tenants/{TENANT}/sync", json={"records": drafts[start : start + BULK]}
        ).raise_for_status()

    def settled() -> bool:
        return all(
            next(_paged(api, f"/v1/tenants/{TENANT}/records/{t}", state=s), None) is None
            for t in ("customer", "item", "vendor")
            for s in ("pending", "syncing", "draft")
        )

    _wait("every record to be sent", settled, timeout=600)
    phases["sent"] = time.monotonic() - started
    failed = sum(
        1
        for t in ("customer", "item", "vendor")
        for _ in _paged(api, f"/v1/tenants/{TENANT}/records/{t}", state="failed")
    )
    created, duplicates = _duplicates(qbo, realm, {i for own in ids.values() for i in own.values()})
    return MatchingFigures(
        records=sum(len(p) for p in pushed.values()),
        matched=matched,
        right=right,
        decidable=decidable,
        right_decidable=right_decidable,
        ambiguous_planted=ambiguous_planted,
        ambiguous_listed=ambiguous_listed,
        accepted=accepted,
        created=created,
        duplicates=duplicates,
        failed=failed,
        seconds=time.monotonic() - started,
        phases=phases,
    )


def _decide(api: httpx.Client, result: dict[str, Any], decision: str, pick: str | None = None) -> bool:
    """Accept (with `pick`) or reject a result; False when the link is refused (409)."""
    body = None if pick is None else {"quickbooks_id": pick}
    answer = api.post(f"/v1/tenants/{TENANT}/matches/{result['match_id']}/{decision}", json=body)
    if answer.status_code == 409:
        return False
    answer.raise_for_status()
    return True


def run(
    *, customers: int = CUSTOMERS, items: int = ITEMS, vendors: int = VENDORS, seed_number: int = 12
) -> MatchingFigures:
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=True)
    try:
        return run_on(stack, planted_company(seed_number, customers, items, vendors))
    finally:
        stack.stop()


_SINK = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - left open: the stack's threads may still log


def run_quietly(**kwargs: Any) -> MatchingFigures:
    """`run`, with the stack's logs (JSON lines on stdout) kept out of the report."""
    print("bench: matching...", file=sys.stderr, flush=True)
    with contextlib.redirect_stdout(_SINK):
        return run(**kwargs)


def format_figures(f: MatchingFigures) -> str:
    return "\n".join(
        [
            f"automatch on the planted company ({f.records} host records), {f.seconds:.1f} s ("
            + ", ".join(f"{phase} at {at:.1f} s" for phase, at in f.phases.items())
            + ")",
            f"  precision          {f.precision:.3f} ({f.right}/{f.matched}; target ≥ {PRECISION_TARGET})",
            f"  recall             {f.recall:.3f} ({f.right_decidable}/{f.decidable}; "
            f"target ≥ {RECALL_TARGET})",
            f"  ambiguous listed   {f.ambiguous_listed}/{f.ambiguous_planted}",
            f"  accepted by hand   {f.accepted}",
            f"  created            {f.created}, duplicates {f.duplicates} (target 0), failed {f.failed}",
        ]
    )
