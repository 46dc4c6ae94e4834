"""The issue's done-when figure for automatch, on the local stack as `make run` starts it, in both editions:
a QuickBooks company seeded with local/seed_matching.py's planted company (its QuickBooks side), the tenant
connected and the company's lists read, the host app's records pushed as drafts (send_mode review), automatch
run, then

- precision and recall of the matches (proposals included) against the planted truth, and whether every
  planted ambiguous record is listed as ambiguous;
- a person's decisions: the proposals the truth confirms accepted, the others rejected; each ambiguous record
  given the candidate of its own name (else the first), and a record whose object another record took
  (the host app has it twice) deleted, as a person merging the two would;
- every draft sent, and the objects QuickBooks then holds: `duplicates` counts the created ones whose name
  (normalised as automatch compares names), email or SKU another object of their list already has.

One scenario (`_scenario`); what differs by edition is a `Company`: how the company is seeded, the tenant
connected, time let pass for lists to be read and records sent, and what the company holds read back.
- Online (`OnlineCompany`): the sandbox company, entered through /_sandbox/; connected through the consent
  page; the worker reads the lists at connect and sends the records on its own: time passes by waiting.
- Desktop (`DesktopCompany`): a company file of the Desktop stand-in, entered through /_qbd/ as a user
  would at the keyboard; connected as a tenant sets up the Web Connector (a .qwc and password issued by
  the API); lists are read, and records sent, in Web Connector updates: time passes one update at a time
  (POST /_qbd/connectors/{id}/run). Its items' SKU is ManufacturerPartNumber; its names are unique across
  customers and vendors.

`run` starts its own stack (`python -m bench --matching full`, at the issue's sizes); `run_on` takes a
running one (tests/e2e/test_matching_done_when.py, smaller).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from local import stack as local_stack
from local.connect import consent
from local.seed_matching import (
    CUSTOMERS,
    ITEMS,
    VENDORS,
    PlantedCompany,
    PlantedList,
    planted_company,
    storable,
)
from qbsync.domain.matching import normalise
from qbsync.domain.mirror import ListEntry, ListType, fold
from qbsync.domain.records import Customer, Item, Vendor

EDITIONS = {"qbo": "QuickBooks Online (sandbox)", "qbd": "QuickBooks Desktop (stand-in)"}
RECORD_TYPES = ("customer", "item", "vendor")
BULK = 500
PRECISION_TARGET, RECALL_TARGET = 0.99, 0.95
SETTINGS = {
    "send_mode": "review",
    "default_income_account": "Services",  # both editions' new companies have this income account
    "sync_payments_from_quickbooks": False,
}
COMPANY_NAME = "Matching Books"


@dataclass(frozen=True)
class MatchingFigures:
    edition: str  # "qbo" or "qbd"
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


@dataclass(frozen=True)
class Held:
    """An object of the company's customers, items or vendors, as read back to count duplicates."""

    quickbooks_id: str
    name: str
    email: str | None = None
    sku: str | None = None


class Company(Protocol):
    """The edition-specific part of the scenario: one QuickBooks company and its way in."""

    edition: str

    def seed(self, planted: PlantedList) -> dict[str, str]:
        """Enter the planted QuickBooks side of one list as a user would: planted id -> QuickBooks id."""
        ...

    def connect(self, tenant: str) -> None:
        """Connect the tenant (created, with its settings) to this company."""
        ...

    def step(self) -> None:
        """Let time pass for the service to work: its lists read, its records sent."""
        ...

    def held(self) -> dict[str, list[Held]]:
        """What the company holds, by record type."""
        ...


# QuickBooks keeps names unique, ignoring case: Online across customers, vendors and employees (and among
# items), Desktop across customers, vendors, employees and other names (and among items). A planted name it
# already has ("Acme Corp" beside "ACME CORP", or a customer and a vendor of one name) is entered with a
# company suffix added, which automatch's `normalise` drops: the planted truth holds.
UNIQUE_SUFFIXES = ("", ", Inc.", " LLC", " Ltd", " Co.")


def _entered(planted: PlantedList, add: Callable[[ListEntry, str], str | None]) -> dict[str, str]:
    """Each entry of `planted` entered by `add(entry, name)` (the QuickBooks id, or None when the company
    has the name already), under the first of its names with a `UNIQUE_SUFFIXES` suffix that both the
    company and the editions' lengths take: planted id -> QuickBooks id."""
    ids: dict[str, str] = {}
    for entry in planted.entries:
        names = [entry.name + s for s in UNIQUE_SUFFIXES if storable(entry.list_type, entry.name + s)]
        added = next((i for name in names if (i := add(entry, name)) is not None), None)
        if added is None:
            raise RuntimeError(f"seeding {entry.name!r}: the company has every name tried")
        ids[entry.quickbooks_id] = added
    return ids


class OnlineCompany:
    """A company of the QuickBooks Online sandbox."""

    edition = "qbo"
    ENTITY = {"customer": "Customer", "item": "Item", "vendor": "Vendor"}

    def __init__(self, stack: local_stack.RunningStack, api: httpx.Client) -> None:
        self.stack, self.api = stack, api
        self.qbo = httpx.Client(base_url=stack.qbo.url, timeout=60)
        self.realm = stack.qbo.sandbox.add_company(COMPANY_NAME).realm_id

    def seed(self, planted: PlantedList) -> dict[str, str]:
        url = f"/_sandbox/companies/{self.realm}/entities/{self.ENTITY[planted.record_type]}"

        def add(entry: ListEntry, name: str) -> str | None:
            answer = self.qbo.post(url, json=self._entity(planted, entry, name))
            if answer.status_code == 400 and '"6240"' in answer.text:  # Duplicate Name Exists
                return None
            if answer.status_code not in (200, 201):
                raise RuntimeError(f"seeding {name!r}: {answer.status_code} {answer.text[:300]}")
            stored = answer.json()[self.ENTITY[planted.record_type]]
            if not entry.active:
                change = {
                    "Id": stored["Id"],
                    "SyncToken": stored["SyncToken"],
                    "sparse": True,
                    "Active": False,
                }
                self.qbo.post(url, json=change).raise_for_status()
            return str(stored["Id"])

        return _entered(planted, add)

    @staticmethod
    def _entity(planted: PlantedList, entry: ListEntry, name: str) -> dict[str, Any]:
        if planted.record_type == "item":
            body: dict[str, Any] = {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": "1001"}}
            if entry.sku:
                body["Sku"] = entry.sku
            return body
        body = {"DisplayName": name}
        if entry.email:
            body["PrimaryEmailAddr"] = {"Address": entry.email}
        return body

    def connect(self, tenant: str) -> None:
        if httpx.get(consent(self.stack, tenant, self.realm)).status_code != 200:
            raise RuntimeError(f"connecting {tenant} to the sandbox company {self.realm} failed")

    def step(self) -> None:
        time.sleep(0.2)  # the worker reads the lists at connect and sends what is pushed on its own

    def held(self) -> dict[str, list[Held]]:
        held: dict[str, list[Held]] = {}
        for record_type, entity in self.ENTITY.items():
            objects = self.qbo.get(f"/_sandbox/companies/{self.realm}/entities/{entity}").json()[entity]
            held[record_type] = [
                Held(
                    str(o["Id"]),
                    o.get("DisplayName") or o.get("Name") or "",
                    (o.get("PrimaryEmailAddr") or {}).get("Address"),
                    o.get("Sku"),
                )
                for o in objects
            ]
        return held


class DesktopCompany:
    """A company file of the Desktop stand-in, reached through a simulated Web Connector."""

    edition = "qbd"
    LISTS = {"customer": "customers", "item": "items", "vendor": "vendors"}  # /_qbd/ kinds

    def __init__(self, stack: local_stack.RunningStack, api: httpx.Client) -> None:
        self.api = api
        self.qbd = httpx.Client(base_url=f"{stack.qbd.url}/_qbd", timeout=300)
        answer = self.qbd.post("/companies", json={"name": COMPANY_NAME})
        answer.raise_for_status()
        self.company = str(answer.json()["id"])
        self.connector: str | None = None

    def seed(self, planted: PlantedList) -> dict[str, str]:
        def add(entry: ListEntry, name: str) -> str | None:
            kind, fields = self._list_entry(entry)
            answer = self.qbd.post(
                f"/companies/{self.company}/lists/{kind}", json={"name": name, "fields": fields}
            )
            if answer.status_code == 409 and answer.json().get("code") == 3100:  # the name is in use
                return None
            if answer.status_code != 201:
                raise RuntimeError(f"seeding {name!r}: {answer.status_code} {answer.text[:300]}")
            return str(answer.json()["list_id"])

        return _entered(planted, add)

    @staticmethod
    def _list_entry(entry: ListEntry) -> tuple[str, dict[str, Any]]:
        """The list (a /_qbd/ kind) and the Add's fields of an entry. An item with a SKU is a non-inventory
        part: Desktop keeps the SKU as its ManufacturerPartNumber, which a service item does not have."""
        fields: dict[str, Any] = {} if entry.active else {"IsActive": "false"}
        if entry.list_type is not ListType.ITEM:
            kind = "customers" if entry.list_type is ListType.CUSTOMER else "vendors"
            return kind, {**fields, **({"Email": entry.email} if entry.email else {})}
        account = {"SalesOrPurchase": {"AccountRef": SETTINGS["default_income_account"]}}
        if entry.kind == "service":
            return "items-service", {**fields, **account}
        sku = {"ManufacturerPartNumber": entry.sku} if entry.sku else {}
        return "items-non-inventory", {**fields, **sku, **account}

    def connect(self, tenant: str) -> None:
        issued = self.api.post(f"/v1/tenants/{tenant}/web-connector")
        issued.raise_for_status()
        login = issued.json()
        added = self.qbd.post(
            "/connectors",
            json={
                "qwc": login["qwc"],
                "password": login["password"],
                "company": self.company,
                "noop_pause_seconds": 0,
            },
        )
        added.raise_for_status()
        self.connector = str(added.json()["id"])

    def step(self) -> None:
        """One Web Connector update (Update Selected): the lists' changes read, then what waits sent. An
        update with nothing left to send ends with the service's "nothing to sync" as its last error."""
        answer = self.qbd.post(f"/connectors/{self.connector}/run")
        answer.raise_for_status()
        run = answer.json()
        if run["ended"] not in ("done", "last_error"):
            raise RuntimeError(f"the Web Connector update ended {run['ended']}: {run['message']}")

    def held(self) -> dict[str, list[Held]]:
        held: dict[str, list[Held]] = {}
        for record_type, kind in self.LISTS.items():
            answer = self.qbd.get(f"/companies/{self.company}/entities/{kind}")
            answer.raise_for_status()
            held[record_type] = [
                Held(
                    o["ListID"],
                    o.get("FullName") or o.get("Name") or "",
                    o.get("Email"),
                    o.get("ManufacturerPartNumber"),
                )
                for o in answer.json()[kind]
            ]
        return held


# A new company of each edition on a running stack, with the product's API client.
COMPANIES: dict[str, Callable[[local_stack.RunningStack, httpx.Client], Company]] = {
    "qbo": OnlineCompany,
    "qbd": DesktopCompany,
}


def _data(record: Customer | Item | Vendor) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def _push(
    api: httpx.Client, tenant: str, record_type: str, records: list[tuple[str, dict[str, Any]]]
) -> set[str]:
    """Push the records; the ids stored. A record refused for a name another one holds (the host app has
    the same customer twice, spelled alike) is left out, as the host app is told; any other refusal is a
    fault of this bench."""
    stored: set[str] = set()
    for start in range(0, len(records), BULK):
        page = [{"id": rid, "data": data} for rid, data in records[start : start + BULK]]
        answer = api.post(f"/v1/tenants/{tenant}/records/{record_type}", json={"records": page})
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


def _wait(what: str, done: Callable[[], bool], step: Callable[[], None], timeout: float = 600) -> None:
    """`step` until `done`."""
    until = time.monotonic() + timeout
    while not done():
        if time.monotonic() > until:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        step()


def _match(api: httpx.Client, tenant: str, record_types: tuple[str, ...]) -> None:
    """Automatch `record_types`: POST /matches answers at once, and the worker matches and links the
    auto-accepted matches; wait for its run to be done."""
    asked = api.post(f"/v1/tenants/{tenant}/matches", json={"record_types": list(record_types)})
    asked.raise_for_status()
    run_id = asked.json()["run_id"]

    def done() -> bool:
        run = api.get(f"/v1/tenants/{tenant}/matches", params={"limit": "1"}).json()["run"]
        if run["run_id"] == run_id and run["state"] == "failed":
            raise RuntimeError(f"the match failed: {run['error']}")
        return bool(run["run_id"] == run_id and run["state"] == "done")

    _wait("the match run", done, lambda: time.sleep(0.2), timeout=900)


def _unsent(api: httpx.Client, tenant: str) -> dict[str, int]:
    """Records not sent yet, by type and state ("customer pending": 56)."""
    return {
        f"{t} {s}": n
        for t in RECORD_TYPES
        for s in ("draft", "pending", "syncing")
        if (n := sum(1 for _ in _paged(api, f"/v1/tenants/{tenant}/records/{t}", state=s)))
    }


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


def count_duplicates(held: dict[str, list[Held]], seeded: set[str]) -> tuple[int, int]:
    """(objects created, created objects whose normalised name, email or SKU another object of their list
    has)."""
    created = duplicates = 0
    for objects in held.values():
        keys: Counter[tuple[str, str]] = Counter(key for obj in objects for key in _keys(obj))
        for obj in objects:
            if obj.quickbooks_id in seeded:
                continue
            created += 1
            duplicates += any(keys[key] > 1 for key in _keys(obj))
    return created, duplicates


def _keys(obj: Held) -> list[tuple[str, str]]:
    keys = [("name", normalise(obj.name))]
    if obj.email:
        keys.append(("email", fold(obj.email).strip()))
    if obj.sku:
        keys.append(("sku", fold(obj.sku).strip()))
    return keys


def run_on(stack: local_stack.RunningStack, company: PlantedCompany, edition: str = "qbo") -> MatchingFigures:
    """The scenario on a running stack, with a new company of `edition` ("qbo" or "qbd")."""
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    api = httpx.Client(base_url=stack.api_url, headers=headers, timeout=120)
    return _scenario(api, COMPANIES[edition](stack, api), company)


def _scenario(  # noqa: PLR0915 - one scenario, told in order
    api: httpx.Client, quickbooks: Company, company: PlantedCompany
) -> MatchingFigures:
    started = time.monotonic()
    tenant = f"matching-{quickbooks.edition}"
    ids = {p.record_type: quickbooks.seed(p) for p in company.lists()}
    seeded = {o.quickbooks_id for objects in quickbooks.held().values() for o in objects}
    api.post(
        "/v1/tenants", json={"id": tenant, "name": COMPANY_NAME, "edition": quickbooks.edition}
    ).raise_for_status()
    api.put(f"/v1/tenants/{tenant}/settings", json=SETTINGS).raise_for_status()
    quickbooks.connect(tenant)

    def loaded() -> bool:
        return all(
            api.get(f"/v1/tenants/{tenant}/quickbooks/{t}", params={"limit": "1"}).json()["loaded"]
            for t in (ListType.CUSTOMER, ListType.ITEM, ListType.VENDOR)
        )

    _wait("the lists to be read at connect", loaded, quickbooks.step)
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
        _push(api, tenant, planted.record_type, holders)
        records = [(rid, _data(record)) for rid, record in planted.records]
        pushed[planted.record_type] = _push(api, tenant, planted.record_type, records)

    phases["pushed"] = time.monotonic() - started
    _match(api, tenant, RECORD_TYPES)
    phases["matched"] = time.monotonic() - started
    matched = right = right_decidable = decidable = ambiguous_planted = ambiguous_listed = accepted = 0
    for planted in company.lists():
        own, stored = ids[planted.record_type], pushed[planted.record_type]
        truth, ambiguous = _truth(planted, stored)
        truth = {rid: own[q] for rid, q in truth.items()}
        results = {
            r["record_id"]: r
            for r in _paged(api, f"/v1/tenants/{tenant}/matches", record_type=planted.record_type)
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
                        accepted += _decide(api, tenant, result, "accept")
                elif result["state"] == "proposed":
                    _decide(api, tenant, result, "reject")
            elif result["found"] == "ambiguous":
                ambiguous_listed += rid in ambiguous
                pick = _pick(result)
                if pick is not None and not _decide(api, tenant, result, "accept", pick):
                    api.delete(f"/v1/tenants/{tenant}/records/{planted.record_type}/{rid}").raise_for_status()
                    continue
                accepted += 1
    phases["decided"] = time.monotonic() - started
    drafts = [
        {"type": t, "id": r["id"]}
        for t in RECORD_TYPES
        for r in _paged(api, f"/v1/tenants/{tenant}/records/{t}", state="draft")
    ]
    for start in range(0, len(drafts), BULK):
        api.post(
            f"/v1/tenants/{tenant}/sync", json={"records": drafts[start : start + BULK]}
        ).raise_for_status()

    def settled() -> bool:
        return all(
            next(_paged(api, f"/v1/tenants/{tenant}/records/{t}", state=s), None) is None
            for t in RECORD_TYPES
            for s in ("pending", "syncing", "draft")
        )

    try:
        _wait("every record to be sent", settled, quickbooks.step)
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; still to send: {_unsent(api, tenant)}") from None
    phases["sent"] = time.monotonic() - started
    failed = sum(
        1 for t in RECORD_TYPES for _ in _paged(api, f"/v1/tenants/{tenant}/records/{t}", state="failed")
    )
    created, duplicates = count_duplicates(quickbooks.held(), seeded)
    return MatchingFigures(
        edition=quickbooks.edition,
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


def _decide(
    api: httpx.Client, tenant: str, result: dict[str, Any], decision: str, pick: str | None = None
) -> bool:
    """Accept (with `pick`) or reject a result; False when the link is refused (409)."""
    body = None if pick is None else {"quickbooks_id": pick}
    answer = api.post(f"/v1/tenants/{tenant}/matches/{result['match_id']}/{decision}", json=body)
    if answer.status_code == 409:
        return False
    answer.raise_for_status()
    return True


def run(
    *,
    edition: str = "qbo",
    customers: int = CUSTOMERS,
    items: int = ITEMS,
    vendors: int = VENDORS,
    seed_number: int = 12,
) -> MatchingFigures:
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=True)
    try:
        return run_on(stack, planted_company(seed_number, customers, items, vendors), edition)
    finally:
        stack.stop()


_SINK = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - left open: the stack's threads may still log


def run_quietly(**kwargs: Any) -> MatchingFigures:
    """`run`, with the stack's logs (JSON lines on stdout) kept out of the report."""
    print(f"bench: matching ({kwargs.get('edition', 'qbo')})...", file=sys.stderr, flush=True)
    with contextlib.redirect_stdout(_SINK):
        return run(**kwargs)


def format_figures(runs: list[MatchingFigures]) -> str:
    """The runs side by side, a column per edition, each against the same targets."""
    rows: list[tuple[str, list[str]]] = [
        ("host records", [str(f.records) for f in runs]),
        ("precision", [f"{f.precision:.3f} ({f.right}/{f.matched})" for f in runs]),
        ("recall", [f"{f.recall:.3f} ({f.right_decidable}/{f.decidable})" for f in runs]),
        ("ambiguous listed", [f"{f.ambiguous_listed}/{f.ambiguous_planted}" for f in runs]),
        ("accepted by hand", [str(f.accepted) for f in runs]),
        ("created", [str(f.created) for f in runs]),
        ("duplicates", [str(f.duplicates) for f in runs]),
        ("failed", [str(f.failed) for f in runs]),
        ("seconds", [f"{f.seconds:.1f}" for f in runs]),
        ("result", ["ok" if f.ok else "FAILED" for f in runs]),
    ]
    targets = {
        "precision": f"≥ {PRECISION_TARGET}",
        "recall": f"≥ {RECALL_TARGET}",
        "ambiguous listed": "all",
        "duplicates": "0",
    }
    heads = [EDITIONS[f.edition] for f in runs]
    width = max(len(label) for label, _ in rows)
    columns = [max(len(h), *(len(values[i]) for _, values in rows)) for i, h in enumerate(heads)]

    def line(label: str, values: list[str], target: str) -> str:
        cells = "  ".join(v.ljust(w) for v, w in zip(values, columns, strict=True))
        return f"  {label.ljust(width)}  {cells}  {target}".rstrip()

    return "\n".join(
        [
            "automatch on the planted company, then every draft sent",
            line("", heads, "target"),
            *(line(label, values, targets.get(label, "")) for label, values in rows),
            *(
                f"  {EDITIONS[f.edition]}: "
                + ", ".join(f"{phase} at {at:.1f} s" for phase, at in f.phases.items())
                for f in runs
            ),
        ]
    )
