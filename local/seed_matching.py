"""A planted company for automatch: a QuickBooks company and a host app that keep the same customers, items
and vendors, each spelled as another person typed it, with the truth of which record is which object.

`planted_company()` gives, per record type, the host app's records (canonical models), the QuickBooks list
(mirror entries), the links already made, and the ground truth:

- `pairs`: host record -> its QuickBooks object, where the rules of the default settings have what they need
  to find it: the same key (customers' billing email, items' SKU, whatever the name), or a name that differs
  by case, accents, punctuation, blanks, company suffix, word order, or one or two typos in a name long
  enough for a typo to leave most of it (`TYPO_MIN_LETTERS`). Items are matched by exact name only, so an
  item whose name has a typo is decidable through its SKU alone;
- `undecidable`: host record -> its QuickBooks object where nothing the rules use is left (renamed without a
  common key, or an item with a typo and no SKU in common): automatch must not pair it with anything else;
- `ambiguous`: host record -> the objects it may be, where a person must pick: QuickBooks holds the same
  name twice (`duplicate_names`), two customers share a billing email or two items a SKU, or the host app
  has the same object twice;
- `unmatched`: host records QuickBooks has no (active, unlinked) counterpart of, with the outcome they must
  get: `missing_key` without the type's key, else `not_found`.

Names of different parties differ by more than `DISTINCT_EDITS` letters once normalised (a planted namesake,
"Jon Smith" beside "John Smith", is the exception, and its host records carry its exact name): closer than
that, two names of different people cannot be told apart by spelling, and the truth would be a guess.

Both editions can hold the company (`storable`): every name and key, on either side, passes both editions'
checks of a pushed record (qbsync.domain.validation): names within QuickBooks Desktop's lengths (customers and
vendors 41 characters, items 31), ISO-8859-1 text only (Desktop's, so the accents are Latin-1 ones), and a
SKU on non-inventory items only (Desktop keeps it as ManufacturerPartNumber, which a service item lacks).

Everything is drawn from one `random.Random(seed)`: the same seed gives the same company. Besides the tests
(tests/unit/test_matching_world.py), the same company can seed the local stack's sandbox.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from qbsync.domain.matching import HostRecord, Outcome, normalise
from qbsync.domain.mirror import ListEntry, ListType
from qbsync.domain.records import Customer, Item, ItemKind, Vendor
from qbsync.domain.tenants import Edition
from qbsync.domain.validation import validate

# The sizes the issue names: "a sandbox company seeded with 500 customers, 300 items and 200 vendors that
# the host app also has".
CUSTOMERS, ITEMS, VENDORS = 500, 300, 200
DISTINCT_EDITS = 3
# Typos are planted in names of at least this many letters (normalised, blanks included): one wrong letter
# in 12, two in 16, still leave a name 85 % alike (the default match_threshold).
TYPO_MIN_LETTERS = {1: 12, 2: 16}


def _listed(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


FIRST = _listed(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret "
    "Mark Sandra Donald Ashley Steven Kimberly Andrew Emily Joshua Donna Kenneth Michelle Kevin Carol Brian "
    "Amanda George Melissa Timothy Deborah José Zoë Renée François Jürgen Søren Agnès Chloé Inés Björn "
    "Mónica Siobhán Raphaël Noémie Ramón Ångström Priya Hiroshi Wei Olumide Aleksandra Giuseppe Mateus"
)
LAST = _listed(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller Lefèvre Núñez Østergaard Kowalski "
    "Brennan O'Connor McAllister Fitzgerald Nakamura Okonkwo Rossi Schäfer Håkansson Gonçalves Dubois "
    "Papadopoulos Iyer Castillo Sørensen Bianchi Gallagher D'Angelo Whitfield Underwood Pemberton"
)
PLACES = _listed(
    "Blue Ridge|Harbor View|Summit|Oak Valley|Riverside|Pinecrest|Maple Leaf|Silver Lake|Red Rock|"
    "Golden Gate|Cedar Hill|Lakeshore|Northwind|Sunrise|Evergreen|Stonebridge|Willow Creek|Bayside|"
    "Highland|Meadowbrook|Ironwood|Clearwater|Brightside|Fox Run|Eagle Point|Granite|Prairie|Coastal|"
    "Heritage|Liberty|Pioneer|"
    "Copperfield|Westgate|Eastbrook|Southpoint|Hillcrest|Greenfield|Falcon|Orchard|Beacon|Crescent|Keystone|"
    "Magnolia|Sequoia|Aspen|Juniper|Cypress|Horizon|Timberline|Bluewater|Café Lumière|Über|Crème Brûlée",
    "|",
)
TRADES = _listed(
    "Plumbing|Dental Care|Landscaping|Bakery|Auto Repair|Roofing|Electric|Veterinary Clinic|Fitness|"
    "Law Office|Accounting|Hair Salon|Pest Control|Coffee Roasters|Flooring|Pool Service|Painting|HVAC|"
    "Florist|Catering|Realty|Insurance|Photography|Printing|Cleaning Services|Daycare|Brewing|Tailors|"
    "Chiropractic|Pharmacy|Bookkeeping|Architecture|Interiors|Movers|Locksmiths|Glass & Mirror",
    "|",
)
SUPPLIES = _listed(
    "Supply|Wholesale|Distributors|Logistics|Hardware|Paper Goods|Lumber|Steel|Office Products|Packaging|"
    "Chemicals|Electrical Supply|Fasteners|Textiles|Equipment Rental|Freight|Tool Works|Imports|Provisions|"
    "Uniforms|Software|Telecom|Fuel|Waste Management",
    "|",
)
QUALIFIERS = ("", "", "", " Services", " Group", " & Sons", " Studio", " Partners", " Works", " Center")
COMPANY_SUFFIXES = ("Inc.", "Inc", "LLC", "Ltd", "Co.", "Corp.", "Corporation", "Company", "L.L.C.")
MATERIALS = _listed(
    "Copper|PVC|Steel|Brass|Oak|Maple|Vinyl|Ceramic|Aluminum|Cedar|Granite|Nylon|Cotton|Rubber|Glass|Bamboo|"
    "Walnut|Leather|Titanium|Zinc",
    "|",
)
PRODUCTS = _listed(
    "Pipe|Elbow|Valve|Bracket|Hinge|Panel|Tile|Shelf|Hose|Gasket|Washer|Fitting|Board|Cable|Filter|Brush|"
    "Clamp|Anchor|Coupling|Faucet|Rail|Handle|Spacer|Sleeve",
    "|",
)
SIZES = ('1/2"', '3/4"', '1"', "2 in", "Small", "Medium", "Large", "XL", "10 ft", "25 ft", "Pack of 10", "")
SERVICES = _listed(
    "Consultation|Installation|Repair Labor|Inspection|Maintenance Plan|Design Fee|Delivery|Disposal Fee|"
    "Emergency Call-out|Training Session|Site Survey|Annual Service",
    "|",
)
KEYBOARD_NEIGHBOURS = {
    "a": "qsz", "b": "vgn", "c": "xdv", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht", "h": "gjy",
    "i": "uok", "j": "hku", "k": "jli", "l": "ko", "m": "nj", "n": "bmh", "o": "ipl", "p": "ol",
    "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij", "v": "cbf", "w": "qes", "x": "zc",
    "y": "tuh", "z": "xa",
}  # fmt: skip
UNACCENTED = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "å": "a", "Å": "A"})


def _plain(name: str) -> str:
    """The name without its accents, as typed on a keyboard without them: "Søren Müller" -> "Soren Muller"."""
    decomposed = unicodedata.normalize("NFKD", name.translate(UNACCENTED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def item_kind(name: str, sku: str | None) -> ItemKind:
    """A service ("Installation", "Repair Labor") unless it has a SKU: QuickBooks Desktop keeps a SKU
    (ManufacturerPartNumber) on non-inventory and inventory items only (qbxml130.xsd ItemServiceAdd has
    none), so an item with one is a non-inventory part in both editions."""
    return ItemKind.SERVICE if sku is None and any(s in name for s in SERVICES) else ItemKind.NON_INVENTORY


def host_record(list_type: ListType, name: str, key: str | None) -> HostRecord:
    """The host app's record of a name and its key (billing email or SKU)."""
    if list_type is ListType.ITEM:
        return Item(kind=item_kind(name, key), name=name, sku=key)
    if list_type is ListType.VENDOR:
        return Vendor(display_name=name, email=key)
    return Customer(display_name=name, email=key)


def storable(list_type: ListType, name: str, key: str | None = None) -> bool:
    """Whether both editions take a record of this name and key as it is (the checks a push gets)."""
    record = host_record(list_type, name, key)
    return not any(validate(LIST_RECORD_TYPES[list_type], record, edition) for edition in Edition)


LIST_RECORD_TYPES = {ListType.CUSTOMER: "customer", ListType.ITEM: "item", ListType.VENDOR: "vendor"}


@dataclass
class PlantedList:
    """One record type of the planted company: both sides and the truth."""

    record_type: str
    records: list[tuple[str, HostRecord]] = field(default_factory=list)
    entries: list[ListEntry] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # quickbooks id -> a record linked before
    pairs: dict[str, str] = field(default_factory=dict)
    undecidable: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, frozenset[str]] = field(default_factory=dict)
    unmatched: dict[str, Outcome] = field(default_factory=dict)
    duplicate_names: set[str] = field(default_factory=set)


@dataclass
class PlantedCompany:
    customers: PlantedList
    items: PlantedList
    vendors: PlantedList

    def lists(self) -> list[PlantedList]:
        return [self.customers, self.items, self.vendors]


@dataclass
class _Names:
    """Base names of one list, each more than DISTINCT_EDITS letters from the others once normalised, in
    their own word order and with their words sorted."""

    rng: random.Random
    make: Callable[[random.Random], str]
    distinct: bool
    fits: Callable[[str], bool]
    taken: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    @staticmethod
    def _forms(name: str) -> tuple[str, str]:
        normalised = normalise(name)
        return normalised, " ".join(sorted(normalised.split()))

    def _free(self, name: str) -> bool:
        forms = self._forms(name)
        if forms[0] in self.seen or not self.fits(name):
            return False
        if not self.distinct:
            return True
        return all(
            process.extractOne(form, self.taken, scorer=Levenshtein.distance, score_cutoff=DISTINCT_EDITS)
            is None
            for form in forms
        )

    def _take(self, *names: str) -> None:
        for name in names:
            self.taken.extend(self._forms(name))
            self.seen.add(self._forms(name)[0])

    def new(self) -> str:
        while True:
            name = self.make(self.rng)
            if self._free(name):
                self._take(name)
                return name

    def namesakes(self) -> tuple[str, str]:
        """Two names one letter apart ("John Smith", "Jon Smith"), both far from every other name."""
        while True:
            name = self.make(self.rng)
            twin = _typo(self.rng, name, 1)
            if normalise(name) != normalise(twin) and self._free(name) and self._free(twin):
                self._take(name, twin)
                return name, twin


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _company(trades: tuple[str, ...] | list[str]) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        owner = rng.choice(PLACES) if rng.random() < 0.7 else rng.choice(LAST)
        suffix = rng.choice(COMPANY_SUFFIXES) if rng.random() < 0.5 else ""
        return f"{owner} {rng.choice(trades)}{rng.choice(QUALIFIERS)} {suffix}".strip()

    return make


def _customer_name(rng: random.Random) -> str:
    return _person(rng) if rng.random() < 0.4 else _company(TRADES)(rng)


def _item_name(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return (
            f"{rng.choice(SERVICES)} {rng.choice(('', 'Standard', 'Premium', 'Hourly', 'Weekend'))}".strip()
        )
    return f"{rng.choice(MATERIALS)} {rng.choice(PRODUCTS)} {rng.choice(SIZES)}".strip()


# --- how a second person spells a name ----------------------------------------------------------------


def _letters(name: str) -> list[int]:
    # Typos fall on letters inside words: people seldom get the first letter of a word wrong.
    return [i for i, c in enumerate(name) if c.isalpha() and i > 0 and name[i - 1].isalpha()]


def _typo(rng: random.Random, name: str, count: int) -> str:
    for _ in range(count):
        at = rng.choice(_letters(name))
        c = name[at]
        kind = rng.choice(("swap", "drop", "double", "neighbour"))
        if kind == "swap" and at + 1 < len(name) and name[at + 1].isalpha() and name[at + 1] != c:
            name = name[:at] + name[at + 1] + c + name[at + 2 :]
        elif kind == "drop":
            name = name[:at] + name[at + 1 :]
        elif kind == "double":
            name = name[:at] + c + name[at:]
        else:
            near = rng.choice(KEYBOARD_NEIGHBOURS.get(_plain(c).lower(), "e"))
            name = name[:at] + (near.upper() if c.isupper() else near) + name[at + 1 :]
    return name


def _suffix_changed(rng: random.Random, name: str) -> str:
    for suffix in COMPANY_SUFFIXES:
        if name.endswith(" " + suffix):
            stem = name.removesuffix(" " + suffix)
            return rng.choice(
                (stem, f"{stem}, {rng.choice(COMPANY_SUFFIXES)}", f"{stem} {suffix.rstrip('.')}")
            )
    return f"{name} {rng.choice(COMPANY_SUFFIXES)}"


def _punctuated(rng: random.Random, name: str) -> str:
    choices = [name.replace(" ", "  ", 1), name.replace(" ", " - ", 1), name + "."]
    if "&" in name:
        choices.append(name.replace("&", "and"))
    if "'" in name:
        choices.append(name.replace("'", ""))
    return rng.choice(choices)


def _recased(rng: random.Random, name: str) -> str:
    return rng.choice((name.upper(), name.lower(), name.title()))


def _reordered(name: str) -> str:
    first, _, rest = name.partition(" ")
    return f"{rest}, {first}" if rest else name


# A decidable spelling of a name, and how often each is planted (an edition-neutral guess at what two
# people typing the same customer produce; exact copies are the most common).
SPELLINGS: tuple[tuple[str, int], ...] = (
    ("same", 30),
    ("case", 12),
    ("accents", 10),
    ("suffix", 14),
    ("punctuation", 10),
    ("order", 4),
    ("typo", 12),
    ("typos", 8),
)


def _respell(rng: random.Random, name: str, *, typos: bool, item: bool = False) -> tuple[str, str, bool]:
    """(QuickBooks' spelling, the host's spelling, whether the host's has typos) of one base name. Items get
    no company suffix and keep their word order (items are matched by exact name); only a person's name
    ("John Smith") is written the other way round ("Smith, John")."""
    kinds, weights = zip(*SPELLINGS, strict=True)
    kind = rng.choices(kinds, weights)[0]
    if (kind in {"suffix", "order"} and item) or (kind == "order" and len(name.split()) != 2):
        kind = "punctuation"
    letters = len(normalise(name))
    if kind in {"typo", "typos"}:
        count = 1 if kind == "typo" else 2
        if typos and letters >= TYPO_MIN_LETTERS[count]:
            typed = _typo(rng, name, count)
            while normalise(typed) == normalise(name):  # two swaps of the same letters undo each other
                typed = _typo(rng, name, count)
            return name, typed, True
        kind = "case"
    if kind == "accents" and _plain(name) != name:
        return (name, _plain(name), False) if rng.random() < 0.7 else (_plain(name), name, False)
    host = {
        "case": _recased,
        "suffix": _suffix_changed,
        "punctuation": _punctuated,
        "order": lambda _, n: _reordered(n),
    }.get(kind, lambda _, n: n)(rng, name)
    return name, host, False


# --- the lists ---------------------------------------------------------------------------------------------


@dataclass
class _Planter:
    rng: random.Random
    planted: PlantedList
    list_type: ListType
    names: _Names
    next_qb: int = 1000
    next_record: int = 1
    next_key: int = 1

    @property
    def item(self) -> bool:
        return self.list_type is ListType.ITEM

    def qb(self, name: str, key: str | None = None, *, active: bool = True) -> str:
        self.next_qb += 1
        qid = str(self.next_qb)
        entry = ListEntry(
            list_type=self.list_type,
            quickbooks_id=qid,
            name=name,
            active=active,
            email=None if self.item else key,
            sku=key if self.item else None,
            kind=item_kind(name, key).value if self.item else None,
        )
        self.planted.entries.append(entry)
        return qid

    def host(self, name: str, key: str | None = None) -> str:
        record_id = f"{self.planted.record_type[0]}-{self.next_record:05d}"
        self.next_record += 1
        self.planted.records.append((record_id, host_record(self.list_type, name, key)))
        return record_id

    def respell(self, name: str, *, typos: bool) -> tuple[str, str, bool]:
        """`_respell`, drawn again until both spellings are `storable` (a suffix added can make a name
        longer than Desktop takes; the exact copy always fits, so this ends)."""
        while True:
            spelled = _respell(self.rng, name, typos=typos, item=self.item)
            if storable(self.list_type, spelled[0]) and storable(self.list_type, spelled[1]):
                return spelled

    def named_twice(self) -> tuple[str, str]:
        """A new name and a second spelling of it for QuickBooks to hold beside it: punctuated for an item
        (matched by exact name), with its company suffix changed for others; both `storable`."""
        while True:
            base = self.names.new()
            respelled = _punctuated(self.rng, base) if self.item else _suffix_changed(self.rng, base)
            if storable(self.list_type, respelled):
                return base, respelled

    def key(self, name: str) -> str:
        """A new key, unique in the company: an email made of the name, or a SKU."""
        self.next_key += 1
        if self.list_type is ListType.ITEM:
            letters = "".join(w[0] for w in _plain(name).upper().split() if w[0].isalpha())[:3] or "SVC"
            return f"{letters}-{self.next_key:04d}"
        local = "".join(c for c in _plain(name).lower() if c.isalnum())[:12] or "office"
        return f"{local}{self.next_key}@{self.rng.choice(('example.com', 'mail.example', 'biz.example'))}"

    def host_key(self, qb_key: str | None) -> tuple[str | None, bool]:
        """The host's key for an object whose QuickBooks key is `qb_key`, and whether they are the same."""
        roll = self.rng.random()
        if qb_key is not None and roll < 0.65:
            return _recased(self.rng, qb_key) if self.rng.random() < 0.3 else qb_key, True
        if roll < 0.85:
            return None, False
        return self.key("new"), False

    def unmatched(self, record_id: str, key: str | None) -> None:
        missing = key is None and self.list_type is not ListType.VENDOR
        self.planted.unmatched[record_id] = Outcome.MISSING_KEY if missing else Outcome.NOT_FOUND


def _plant_pairs(p: _Planter, count: int, *, keyed: bool, names_similar: bool) -> None:
    for _ in range(count):
        base = p.names.new()
        qb_key = p.key(base) if keyed and p.rng.random() < 0.85 else None
        qb_name, host_name, typos = p.respell(base, typos=True)
        host_key, same_key = p.host_key(qb_key) if keyed else (None, False)
        qid = p.qb(qb_name, qb_key)
        rid = p.host(host_name, host_key)
        decidable = same_key or not typos or names_similar
        (p.planted.pairs if decidable else p.planted.undecidable)[rid] = qid
        if not decidable:
            p.planted.unmatched[rid] = Outcome.MISSING_KEY if host_key is None else Outcome.NOT_FOUND


def _plant_hard_cases(p: _Planter, counts: dict[str, int], *, keyed: bool) -> None:
    rng, planted = p.rng, p.planted
    for _ in range(counts.get("namesakes", 0)):  # "John Smith" and "Jon Smith": the host has both, exactly
        for name in p.names.namesakes():
            planted.pairs[p.host(_recased(rng, name) if rng.random() < 0.5 else name)] = p.qb(name)
    for _ in range(counts.get("duplicate_names", 0)):  # QuickBooks has it twice: a person picks
        base, respelled = p.named_twice()
        twins = frozenset({p.qb(base), p.qb(_recased(rng, respelled))})
        planted.duplicate_names |= twins
        planted.ambiguous[p.host(p.respell(base, typos=False)[1])] = twins
    for _ in range(counts.get("shared_keys", 0)):  # two customers with one email, two items with one SKU
        first, second = p.names.new(), p.names.new()
        key = p.key(first)
        both = frozenset({p.qb(first, key), p.qb(second, key)})
        for name in (first, second) if p.list_type is ListType.CUSTOMER else (first,):
            planted.ambiguous[p.host(name, key)] = both
    for _ in range(counts.get("host_twice", 0)):  # the host app has the same object twice
        base = p.names.new()
        qb_key = p.key(base) if keyed else None
        qid = p.qb(base, qb_key)
        for _copy in range(2):
            host_key = qb_key if keyed and rng.random() < 0.5 else None
            host_name = p.respell(base, typos=False)[1]
            planted.ambiguous[p.host(host_name, host_key)] = frozenset({qid})
    for _ in range(counts.get("inactive", 0)):  # QuickBooks has it, made inactive: no candidate
        base = p.names.new()
        p.qb(base, active=False)
        p.unmatched(p.host(base), None)
    for n in range(counts.get("linked", 0)):  # QuickBooks has it, linked to another record already
        base = p.names.new()
        p.planted.links[p.qb(base)] = f"linked-{n}"
        p.unmatched(p.host(base), None)
    for _ in range(counts.get("renamed", 0)):  # the host renamed it and shares no key: nothing to go by
        qid = p.qb(p.names.new(), p.key("old") if keyed else None)
        rid = p.host(p.names.new())
        planted.undecidable[rid] = qid
        p.unmatched(rid, None)
    for _ in range(counts.get("host_only", 0)):
        name = p.names.new()
        key = p.key(name) if keyed and rng.random() < 0.5 else None
        p.unmatched(p.host(name, key), key)
    for _ in range(counts.get("quickbooks_only", 0)):
        name = p.names.new()
        p.qb(name, p.key(name) if keyed else None)


HARD_CASES: dict[str, dict[str, int]] = {
    "customer": {
        "namesakes": 5,
        "duplicate_names": 8,
        "shared_keys": 6,
        "host_twice": 5,
        "inactive": 6,
        "linked": 4,
        "renamed": 10,
        "host_only": 40,
        "quickbooks_only": 50,
    },
    "item": {
        "duplicate_names": 3,
        "shared_keys": 5,
        "host_twice": 3,
        "inactive": 4,
        "linked": 3,
        "host_only": 25,
        "quickbooks_only": 30,
    },
    "vendor": {
        "namesakes": 3,
        "duplicate_names": 5,
        "host_twice": 3,
        "inactive": 3,
        "linked": 2,
        "renamed": 5,
        "host_only": 15,
        "quickbooks_only": 20,
    },
}


def _host_records_of_hard_cases(counts: dict[str, int], record_type: str) -> int:
    per_case = {"namesakes": 2, "shared_keys": 2 if record_type == "customer" else 1, "host_twice": 2}
    return sum(n * per_case.get(case, 1) for case, n in counts.items() if case != "quickbooks_only")


def _plant(
    rng: random.Random, record_type: str, list_type: ListType, size: int, make: Callable[[random.Random], str]
) -> PlantedList:
    planted = PlantedList(record_type)
    keyed = record_type in {"customer", "item"}  # the default rules' keys: email, SKU
    names_similar = record_type != "item"  # items: SKU, then the exact name only
    names = _Names(rng, make, distinct=names_similar, fits=lambda name: storable(list_type, name))
    p = _Planter(rng, planted, list_type, names)
    full_size = {"customer": CUSTOMERS, "item": ITEMS, "vendor": VENDORS}[record_type]
    counts = {case: max(1, n * size // full_size) for case, n in HARD_CASES[record_type].items()}
    _plant_hard_cases(p, counts, keyed=keyed)
    _plant_pairs(
        p, size - _host_records_of_hard_cases(counts, record_type), keyed=keyed, names_similar=names_similar
    )
    rng.shuffle(planted.records)
    rng.shuffle(planted.entries)
    return planted


def planted_company(
    seed: int = 12, customers: int = CUSTOMERS, items: int = ITEMS, vendors: int = VENDORS
) -> PlantedCompany:
    """The host app's `customers`, `items` and `vendors` and the QuickBooks company beside them; hard
    cases scale with the sizes (at least one of each)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    return PlantedCompany(
        customers=_plant(rng, "customer", ListType.CUSTOMER, customers, _customer_name),
        items=_plant(rng, "item", ListType.ITEM, items, _item_name),
        vendors=_plant(rng, "vendor", ListType.VENDOR, vendors, _company(SUPPLIES)),
    )
