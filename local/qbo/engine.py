"""The one generic engine of the Accounting API: read, create, full and sparse update, delete, void and query
any entity of entities.SPECS, with the rules of rules.py. No Flask here: the blueprint (accounting.py) holds
the sandbox lock around a Ledger and turns its results and QboErrors into responses.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from local.qbo import faults, rules
from local.qbo.entities import COMPANY_TZ, EntitySpec, Kind, spec_named, stamp
from local.qbo.query import (
    Condition,
    Order,
    Query,
    QuerySyntaxError,
    QueryValidationError,
    evaluate,
    parse,
)
from local.qbo.state import Company, Entity

_NUMERIC_ID = re.compile(r"\d+")


@dataclass
class Books:
    """What the API remembers about a company beyond its entities."""

    request_ids: dict[str, tuple[int, str]] = field(default_factory=dict)  # requestid -> first (status, body)
    warn_duplicate_doc_number: bool = False  # Preferences.SalesFormsPrefs: warn on duplicate numbers (off)
    doc_numbers: dict[str, int] = field(default_factory=dict)  # last auto-assigned DocNumber per entity
    last_address_id: int = 100  # addresses are numbered on their own (BillAddr.Id "2" in the recordings)


def books(company: Company) -> Books:
    """The company's Books, made on first use."""
    if company.books is None:
        company.books = Books()
    return company.books


@dataclass(frozen=True)
class Change:
    """A committed change, for Sandbox.notify once the lock is released."""

    kind: str
    entity: Entity
    operation: str  # Create, Update, Delete, Void


class Ledger:
    """One request's view of a company. Call it with the sandbox lock held."""

    def __init__(self, company: Company, now: datetime) -> None:
        self.company = company
        self.now = now
        self.stamp = stamp(now)
        self.books = books(company)
        self.changes: list[Change] = []

    # ------------------------------------------------------------------------------------------ lookups
    def get(self, kind: str, entity_id: object) -> Entity | None:
        return self.company.of(kind).get(str(entity_id))

    def all(self, kind: str) -> list[Entity]:
        return list(self.company.of(kind).values())

    def was_deleted(self, kind: str, entity_id: str) -> bool:
        return entity_id in self.company.deleted.get(kind, {})

    def ancestors(self, customer: Entity) -> list[Entity]:
        found: list[Entity] = []
        parent = customer.get("ParentRef")
        while parent and len(found) < rules.MAX_CUSTOMER_LEVEL + 1:
            node = self.get("Customer", parent["value"])
            if node is None:
                break
            found.append(node)
            parent = node.get("ParentRef")
        return found

    def applied_to(self, kind: str, txn_id: object) -> Decimal:
        """How much of an Invoice or CreditMemo the company's payments apply."""
        if txn_id is None:
            return Decimal(0)
        key = (kind, str(txn_id))
        return sum((rules.applications(p).get(key, Decimal(0)) for p in self.all("Payment")), Decimal(0))

    def bills_for(self, order_id: str) -> list[str]:
        link = {"TxnId": order_id, "TxnType": "PurchaseOrder"}
        return [bill["Id"] for bill in self.all("Bill") if link in (bill.get("LinkedTxn") or [])]

    def next_address_id(self) -> str:
        self.books.last_address_id += 1
        return str(self.books.last_address_id)

    def next_doc_number(self, spec: EntitySpec) -> str:
        numbers = [int(n) for e in self.all(spec.name) if (n := str(e.get("DocNumber", ""))).isdigit()]
        number = max([self.books.doc_numbers.get(spec.name, 1000), *numbers]) + 1
        self.books.doc_numbers[spec.name] = number
        return str(number)

    # ------------------------------------------------------------------------------------------ operations
    def read(self, spec: EntitySpec, entity_id: str) -> Entity:
        return self._find(spec, entity_id)

    def save(self, spec: EntitySpec, body: dict[str, object]) -> Entity:
        """Create (no Id), or update (Id + SyncToken; `sparse: true` changes only the fields sent)."""
        updating = not rules.is_blank(body.get("Id"))
        if spec.kind in (Kind.READ_ONLY, Kind.COMPANY):
            raise faults.unsupported_operation(
                f"Operation {'Update' if updating else 'Create'} is not supported."
            )
        rules.check_properties(spec, body)
        old = self._current(spec, body) if updating else None
        sparse = old is not None and body.get("sparse") in (True, "true")
        entity = rules.merge(spec, old, body, sparse=sparse)
        rules.validate(self, spec, entity, old)
        entity = rules.native(entity)
        if old is not None and rules.same(old, entity):
            return old
        return self._commit(spec, entity, old, "Create" if old is None else "Update")

    def delete(self, spec: EntitySpec, body: dict[str, object]) -> Entity:
        """Transactions only; name lists are made inactive instead (python-quickbooks#289)."""
        if spec.kind is not Kind.TRANSACTION:
            raise faults.unsupported_operation("Operation Delete is not supported.")
        rules.check_properties(spec, body)
        old = self._current(spec, body)
        rules.refuse_if_applied(self, spec, old, "delete")
        del self.company.of(spec.name)[old["Id"]]
        tombstone = {
            "domain": "QBO",
            "status": "Deleted",
            "Id": old["Id"],
            "MetaData": {"LastUpdatedTime": self.stamp},
        }
        self.company.deleted.setdefault(spec.name, {})[old["Id"]] = tombstone
        rules.after_change(self, spec, None, old)
        self.changes.append(Change(spec.name, copy.deepcopy(tombstone), "Delete"))
        return {"domain": "QBO", "status": "Deleted", "Id": old["Id"]}

    def void(self, spec: EntitySpec, body: dict[str, object]) -> Entity:
        if not spec.voidable:
            raise faults.unsupported_operation("Operation Void is not supported.")
        rules.check_properties(spec, body)
        old = self._current(spec, body)
        return self._commit(spec, rules.native(rules.voided(self, spec, old)), old, "Void")

    def query(self, text: str) -> dict[str, object]:
        """The QueryResponse of a query (the text of `?query=` or of a POST /query body)."""
        try:
            query = parse(text)
        except QuerySyntaxError as error:
            raise faults.query_parse_error(str(error)) from None
        except QueryValidationError as error:
            raise faults.invalid_query(str(error)) from None
        spec = spec_named(query.entity)
        if spec is None:
            raise faults.invalid_query(f"invalid context declaration: {query.entity}")
        known = {prop.lower() for prop in spec.properties}
        for name in query.field_names():
            if name.split(".")[0].lower() not in known:
                raise faults.invalid_query(f"Property {name} not found for Entity {spec.name}")
        where = query.where
        # Name lists, TaxCode and TaxRate: active records unless asked (NOTES §3.2: "Name-list entities
        # (Customer, Vendor, Item, Account, Term, TaxCode, ...) return only active records unless you add
        # Active IN (true,false)").
        if spec.known("Active") and not any(c.field.lower() == "active" for c in where):
            where = (*where, Condition("Active", "=", (True,)))
        page, total = evaluate(
            replace(query, where=where),
            self.all(spec.name),
            zone=COMPANY_TZ,
            default_order=_default_order(spec),
        )
        if query.count:
            return {"totalCount": total}
        if not page:
            return {}  # all__alt_select__4: an empty page has no entity key, no positions
        found = [_selected(spec, e, query) for e in page]
        return {spec.name: found, "startPosition": query.start, "maxResults": len(found)}

    # ------------------------------------------------------------------------------------------ effects
    def touch(self, entity: Entity, updates: dict[str, object]) -> None:
        """A change the API makes as a consequence (a balance, a link): LastUpdatedTime moves, SyncToken
        does not (get__display_name__0: the customer's LastUpdatedTime is its new invoice's CreateTime)."""
        updates = rules.native(updates)
        if any(entity.get(key) != value for key, value in updates.items()):
            entity.update(updates)
            entity["MetaData"] = {**entity.get("MetaData", {}), "LastUpdatedTime": self.stamp}

    def refresh_open_balance(self, kind: str, txn_id: str) -> None:
        target = self.get(kind, txn_id)
        if target is None:
            return
        paying = [p for p in self.all("Payment") if (kind, txn_id) in rules.applications(p)]
        open_balance = rules.money(target.get("TotalAmt", 0)) - self.applied_to(kind, txn_id)
        if kind == "CreditMemo":
            self.touch(target, {"Balance": open_balance, "RemainingCredit": open_balance})
            return
        others = [link for link in target.get("LinkedTxn") or [] if link.get("TxnType") != "Payment"]
        payments = [
            {"TxnId": p["Id"], "TxnType": "Payment"} for p in sorted(paying, key=lambda p: int(p["Id"]))
        ]
        self.touch(target, {"Balance": open_balance, "LinkedTxn": others + payments})

    def refresh_purchase_order(self, order_id: str) -> None:
        order = self.get("PurchaseOrder", order_id)
        if order is None:
            return
        links = [{"TxnId": bill_id, "TxnType": "Bill"} for bill_id in self.bills_for(order_id)]
        if links != (order.get("LinkedTxn") or []):
            self.touch(order, {"LinkedTxn": links, "POStatus": "Closed" if links else "Open"})

    def refresh_balance(self, kind: str, party_id: str) -> None:
        """A customer's open balance (invoices less credits and unapplied payments) and BalanceWithJobs up its
        parents; a vendor's open bills."""
        party = self.get(kind, party_id)
        if party is None:
            return
        if kind == "Vendor":
            self.touch(party, {"Balance": self._sum("Bill", "Balance", "VendorRef", party_id)})
            return
        balance = (
            self._sum("Invoice", "Balance", "CustomerRef", party_id)
            - self._sum("CreditMemo", "Balance", "CustomerRef", party_id)
            - self._sum("Payment", "UnappliedAmt", "CustomerRef", party_id)
        )
        self.touch(party, {"Balance": balance})
        for node in [party, *self.ancestors(party)]:
            children = [
                c for c in self.all("Customer") if (c.get("ParentRef") or {}).get("value") == node["Id"]
            ]
            with_jobs = rules.money(node.get("Balance", 0)) + sum(
                (rules.money(c.get("BalanceWithJobs", 0)) for c in children), Decimal(0)
            )
            self.touch(node, {"BalanceWithJobs": with_jobs})

    def rename_sub_customers(self, parent: Entity) -> None:
        for child in self.all("Customer"):
            if (child.get("ParentRef") or {}).get("value") == parent["Id"]:
                self.touch(
                    child,
                    {
                        "FullyQualifiedName": f"{parent['FullyQualifiedName']}:{child['DisplayName']}",
                        "Level": int(parent.get("Level", 0)) + 1,
                    },
                )
                self.rename_sub_customers(child)

    # ------------------------------------------------------------------------------------------ internals
    def _sum(self, kind: str, amount: str, party_field: str, party_id: str) -> Decimal:
        return sum(
            (
                rules.money(e.get(amount, 0))
                for e in self.all(kind)
                if (e.get(party_field) or {}).get("value") == party_id
            ),
            Decimal(0),
        )

    def _find(self, spec: EntitySpec, entity_id: str) -> Entity:
        found = self.get(spec.name, entity_id)
        if found is None:
            if not _NUMERIC_ID.fullmatch(entity_id):
                raise faults.invalid_id(entity_id)
            raise faults.object_not_found(deleted=self.was_deleted(spec.name, entity_id))
        return found

    def _current(self, spec: EntitySpec, body: dict[str, object]) -> Entity:
        """The stored record an update, delete or void names; its SyncToken must be the one sent (5010)."""
        entity_id = str(body.get("Id") or "").strip()
        if not entity_id:
            raise faults.required_param("Id")
        found = self._find(spec, entity_id)
        token = body.get("SyncToken")
        if rules.is_blank(token):
            raise faults.required_param("SyncToken")
        if str(token) != str(found.get("SyncToken")):
            raise faults.stale_object()
        return found

    def _commit(self, spec: EntitySpec, entity: Entity, old: Entity | None, operation: str) -> Entity:
        if old is None:
            entity["Id"] = self.company.new_id()
            entity["SyncToken"] = "0"
            entity["MetaData"] = {"CreateTime": self.stamp, "LastUpdatedTime": self.stamp}
        else:
            entity["Id"] = old["Id"]
            entity["SyncToken"] = str(int(old.get("SyncToken") or 0) + 1)
            entity["MetaData"] = {**old.get("MetaData", {}), "LastUpdatedTime": self.stamp}
        entity["domain"] = "QBO"
        entity["sparse"] = False
        self.company.of(spec.name)[entity["Id"]] = entity
        rules.after_change(self, spec, entity, old)
        self.changes.append(Change(spec.name, copy.deepcopy(entity), operation))
        return entity


def _default_order(spec: EntitySpec) -> tuple[Order, ...]:
    """Name lists come sorted by name (all__customers__1, get__inactive_vendors__0); transactions newest
    first."""
    if spec.kind is Kind.TRANSACTION:
        return Order("TxnDate", descending=True), Order("Id", descending=True)
    if (
        spec.unique_name
    ):  # sub-customers follow their parent (all__alt_select__1..3): FullyQualifiedName first
        return Order("FullyQualifiedName"), Order(spec.unique_name), Order("Id")
    return (Order("Id"),)


def _selected(spec: EntitySpec, entity: Entity, query: Query) -> Entity:
    """What a query brings of one record: every field for `*` (less those `*` leaves out unless named
    after it), else the named ones."""
    if not query.star:
        return _project(entity, query.fields)
    named = {name.lower() for name in query.fields}
    return {
        key: copy.deepcopy(value)
        for key, value in entity.items()
        if key not in spec.star_omits or key.lower() in named
    }


def _project(entity: Entity, fields: tuple[str, ...]) -> Entity:
    """SELECT a, b: those fields of each record, flagged sparse."""
    picked: Entity = {
        "domain": "QBO",
        "sparse": True,
        "Id": entity.get("Id"),
        "SyncToken": entity.get("SyncToken"),
    }
    lowered = {key.lower(): key for key in entity}
    for name in fields:
        key = lowered.get(name.split(".")[0].lower())
        if key is not None:
            picked[key] = copy.deepcopy(entity[key])
    return picked
