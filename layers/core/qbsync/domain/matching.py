"""Automatch: which QuickBooks object each host record already is, by the rules of the tenant's settings.

For one record type (customer, vendor, employee, item), every host record is compared with the active,
unlinked entries of the matching QuickBooks list, rule after rule, the first rule that finds something
deciding:

1. the key (`MatchRules.key`: items' SKU, customers' billing email), when the record has one: the entries
   with the same value, ignoring case, accents and surrounding blanks;
2. the name (`MatchRules.names` exact or similar): the entries whose `normalise`d names are equal;
3. the name (`similar` only): the entries at least `match_threshold` similar (`similarity`) and at most
   two typos apart (`MAX_TYPOS`).

One candidate is a match, auto-accepted when its score reaches `match_auto_accept` (a key or an equal name
scores 100); a match by name whose key disagrees (both sides have a SKU, or an email, and they differ) is
never auto-accepted. Several candidates equally close (the same key, the same name, or similarity within
`TIE_MARGIN`) are `ambiguous`: a person picks. So are two host records claiming the same object. Nothing
found is `missing_key` when the rules have a key and the record has no value for it (giving it one is what
would help), else `not_found`.

Pure: no I/O; the same input gives the same report (entries are taken in order of their QuickBooks id, and
every list in the report is sorted).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from qbsync.domain.mirror import LIST_OF_RECORD_TYPE, ListEntry, MatchKey, fold, key_value
from qbsync.domain.records import Customer, Employee, Item, Vendor
from qbsync.domain.settings import MatchRules, NameRule, SyncSettings

HostRecord = Customer | Vendor | Employee | Item
MODEL_OF_TYPE: Mapping[str, type[HostRecord]] = {
    "customer": Customer,
    "vendor": Vendor,
    "employee": Employee,
    "item": Item,
}

# Legal-form designators dropped from the end of a name before names are compared, so that "Acme Inc.",
# "ACME, Inc" and "Acme LLC" compare alike. The abbreviations of the commonest forms of the countries
# QuickBooks is sold in and their neighbours, from ISO 20275's Entity Legal Forms code list (GLEIF, "ELF
# code list", the "Abbreviations Local language" column); written as people write them, dots and case aside.
COMPANY_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("Inc", "US, CA: incorporated"),
    ("Incorporated", "US, CA"),
    ("Corp", "US, CA: corporation"),
    ("Corporation", "US, CA"),
    ("Co", "US, UK: company"),
    ("Company", "US, UK"),
    ("LLC", "US: limited liability company (also 'L.L.C.')"),
    ("PLLC", "US: professional LLC"),
    ("LP", "US, UK: limited partnership"),
    ("LLP", "US, UK, CA: limited liability partnership"),
    ("PC", "US: professional corporation"),
    ("Ltd", "UK, CA, AU, IE, IN: limited company"),
    ("Limited", "UK, CA, AU, IE, IN"),
    ("Ltée", "CA (Quebec): limitée"),
    ("PLC", "UK, IE: public limited company"),
    ("Pty", "AU, ZA: proprietary ('Pty Ltd')"),
    ("GmbH", "DE, AT, CH"),
    ("AG", "DE, AT, CH: Aktiengesellschaft"),
    ("KG", "DE, AT: Kommanditgesellschaft ('GmbH & Co. KG')"),
    ("UG", "DE: Unternehmergesellschaft"),
    ("SA", "FR, ES, BE, CH, LU, Latin America: société anonyme / sociedad anónima ('S.A.')"),
    ("SARL", "FR, LU, MA"),
    ("SAS", "FR: société par actions simplifiée"),
    ("SL", "ES: sociedad limitada ('S.L.')"),
    ("SRL", "IT, RO, BE, Latin America"),
    ("SpA", "IT: società per azioni"),
    ("BV", "NL, BE: besloten vennootschap"),
    ("NV", "NL, BE: naamloze vennootschap"),
    ("AB", "SE: aktiebolag"),
    ("AS", "NO, DK: aksjeselskap / aktieselskab"),
    ("ApS", "DK: anpartsselskab"),
    ("Oy", "FI: osakeyhtiö"),
)

# Two candidates whose similarities differ by less than this are equally close: less than one letter
# apart in names of 25 letters (`similarity` counts an inserted or deleted letter as 100 / (len1 + len2)).
TIE_MARGIN = 2.0
PERFECT = 100.0
# Similar names are at most two typos apart, a wrong, missing, extra or swapped letter counting one each
# (rapidfuzz's OSA distance). The threshold alone, a percentage, lets long names that share generic words
# pass: "Liberty Cleaning Services & Sons" and "Lee Cleaning Services & Sons" are 91 % alike, and 5 letters
# apart; "Melissa White" and "Melissa Whitfield" 87 % and 4 letters.
MAX_TYPOS = 2
# A company suffix of 7 letters or more is recognised with one typo in it ("Corporaton", "Compnay"): no
# word of a name comes that close to one by chance. The short ones ("Inc", "Co", "LLC") only as written.
LONG_SUFFIX = 7

# Apostrophes (straight and typographic) and dots join: "O'Brien" is "OBrien", "S.A." is "SA", "Inc." "Inc".
_JOINED = re.compile("['.\u2019]")
_WORD = re.compile(r"[^\W_]+")  # letters and digits; every other character separates words
# Latin letters that are not a base letter with an accent, so that Unicode decomposition (`fold`) keeps them,
# spelled as people without them on their keyboard write them: "Søren" is "Soren", "Łukasz" "Lukasz".
_UNACCENTED = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}  # dotless i
)


def _words(text: str) -> list[str]:
    return _WORD.findall(_JOINED.sub("", fold(text).translate(_UNACCENTED).replace("&", " and ")))


_SUFFIXES = frozenset(word for suffix, _ in COMPANY_SUFFIXES for word in _words(suffix))
_LONG_SUFFIXES = sorted(word for word in _SUFFIXES if len(word) >= LONG_SUFFIX)


def _is_suffix(word: str) -> bool:
    if word in _SUFFIXES:
        return True
    if len(word) < LONG_SUFFIX - 1:
        return False
    return any(OSA.distance(word, suffix, score_cutoff=1) <= 1 for suffix in _LONG_SUFFIXES)


def normalise(name: str) -> str:
    """A name as automatch compares it: without case, accents, punctuation or repeated blanks, "&" read as
    "and", and without the company suffixes (`COMPANY_SUFFIXES`) at its end ("Smith & Co., Ltd." is
    "smith"; "Acme Corporaton" is "acme", see `LONG_SUFFIX`). A name that is nothing but suffixes keeps
    them ("Company" stays "company")."""
    words = _words(name)
    kept = len(words)
    while kept > 1 and _is_suffix(words[kept - 1]):
        kept -= 1
        if kept > 1 and words[kept - 1] == "and":  # "& Co."
            kept -= 1
    return " ".join(words[:kept])


def _sorted_words(normalised: str) -> str:
    return " ".join(sorted(normalised.split()))


def similarity(a: str, b: str) -> float:
    """How alike two names are, 0 to 100: the better of rapidfuzz's `fuzz.ratio` and `fuzz.token_sort_ratio`
    of their `normalise`d forms.

    ratio is 100 x (1 - letters inserted or deleted / total length): one or two wrong letters cost little in
    a long name and much in a short one. token_sort_ratio is the ratio of the words sorted: the word order
    does not count ("Smith John" is "John Smith"). Both are needed: a typo near the start of a word can move
    it in the sorted order ("Sslon" sorts after "Sons", "Salon" before), which only the plain ratio forgives.
    WRatio, partial_ratio and token_set_ratio were not chosen: they score a name contained in another ("Acme"
    in "Acme Plumbing Supply") near 100, which pairs different companies.
    """
    x, y = normalise(a), normalise(b)
    return round(max(fuzz.ratio(x, y), fuzz.ratio(_sorted_words(x), _sorted_words(y))), 1)


class MatchRule(StrEnum):
    """The rule that found a candidate."""

    SKU = "sku"
    EMAIL = "email"
    NAME_EXACT = "name_exact"
    NAME_SIMILAR = "name_similar"


KEY_RULE: Mapping[MatchKey, MatchRule] = {MatchKey.SKU: MatchRule.SKU, MatchKey.EMAIL: MatchRule.EMAIL}


class Outcome(StrEnum):
    MATCHED = "matched"  # one QuickBooks object: `match`
    AMBIGUOUS = "ambiguous"  # several equally good (`candidates`), or claimed by other records too (`rivals`)
    NOT_FOUND = "not_found"  # QuickBooks has nothing like it
    MISSING_KEY = "missing_key"  # nothing found, and the record lacks the key its rules start with


@dataclass(frozen=True)
class Candidate:
    quickbooks_id: str
    rule: MatchRule
    score: float  # 0 to 100: 100 for a key or an equal name


@dataclass(frozen=True)
class RecordMatch:
    """What automatch found for one host record."""

    record_id: str
    outcome: Outcome
    match: Candidate | None = None  # matched: the object
    auto_accepted: bool = False  # matched: linked without asking; else a proposal to accept or reject
    candidates: tuple[Candidate, ...] = ()  # ambiguous: the objects to pick from, best first
    rivals: tuple[str, ...] = ()  # ambiguous: the other host records that claim the same object


@dataclass(frozen=True)
class DuplicateName:
    """A QuickBooks object whose normalised name other active objects of its list share."""

    quickbooks_id: str
    same_name_as: tuple[str, ...]


@dataclass(frozen=True)
class MatchReport:
    record_type: str
    records: tuple[RecordMatch, ...]  # one per host record, by record id
    duplicate_names: tuple[DuplicateName, ...]  # by QuickBooks id

    def by_outcome(self, outcome: Outcome) -> list[RecordMatch]:
        return [r for r in self.records if r.outcome is outcome]


@dataclass(frozen=True)
class _Entries:
    """The active entries of a list, indexed for the rules. The lists are in the order of the names' lengths
    (then of the QuickBooks ids), so that the names of a range of lengths are one slice."""

    ids: list[str]
    keys: Mapping[str, str | None]  # QuickBooks id -> key value (folded), None without one
    by_key: Mapping[str, list[str]]
    by_name: Mapping[str, list[str]]
    names: list[str]  # the normalised name of each, in the order of `ids`
    sorted_names: list[str]  # the same with its words sorted
    lengths: list[int]  # of each name, ascending


def _index(entries: Sequence[ListEntry], key: MatchKey | None) -> _Entries:
    named = sorted(((normalise(e.name), e) for e in entries), key=lambda pair: len(pair[0]))  # stable
    ids = [e.quickbooks_id for _, e in named]
    names = [name for name, _ in named]
    keys = {e.quickbooks_id: key_value(e, key) if key else None for e in entries}
    by_key: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        value = keys[entry.quickbooks_id]
        if value is not None:
            by_key[value].append(entry.quickbooks_id)
    for name, entry in named:
        by_name[name].append(entry.quickbooks_id)
    sorted_names = [_sorted_words(n) for n in names]
    return _Entries(ids, keys, by_key, by_name, names, sorted_names, [len(n) for n in names])


def _record_key(record: HostRecord, key: MatchKey | None) -> str | None:
    if key is None:
        return None
    raw = getattr(record, key.value, None)  # Item.sku; Customer.email, Vendor.email, Employee.email
    value = fold(raw).strip() if isinstance(raw, str) else ""
    return value or None


def _record_name(record: HostRecord) -> str:
    return record.name if isinstance(record, Item) else record.display_name


def automatch(
    record_type: str,
    records: Sequence[tuple[str, HostRecord]],
    entries: Iterable[ListEntry],
    settings: SyncSettings,
    links: Mapping[str, str] | None = None,
    *,
    rejected: Collection[tuple[str, str]] = (),
) -> MatchReport:
    """Match the host records of `record_type` (record id, canonical model) with the `entries` of the
    QuickBooks list of that type, by `settings.match_rules`, `match_threshold` and `match_auto_accept`.

    `links` maps the QuickBooks id of each linked object to its record's id: an object linked to another
    record is no candidate; one linked to the record itself is. Inactive entries are no candidates.
    """
    model = MODEL_OF_TYPE.get(record_type)
    if model is None:
        raise ValueError(f"{record_type!r} records are not matched")
    list_type = LIST_OF_RECORD_TYPE[record_type]
    rules = settings.match_rules.of(record_type)
    links = links or {}
    record_ids = [record_id for record_id, _ in records]
    if len(set(record_ids)) != len(record_ids):
        raise ValueError("each host record is matched once: the record ids repeat")
    if any(not isinstance(record, model) for _, record in records):
        raise ValueError(f"{record_type} records are {model.__name__} models")
    listed = sorted(entries, key=lambda e: e.quickbooks_id)
    if any(e.list_type is not list_type for e in listed):
        raise ValueError(f"{record_type} records are matched with entries of the {list_type} list")

    index = _index([e for e in listed if e.active], rules.key)
    matcher = _Matcher(index, rules, settings, links, frozenset(rejected))
    found = {record_id: matcher.match(record_id, record) for record_id, record in records}
    settled = _settle_claims(found)
    return MatchReport(
        record_type=record_type,
        records=tuple(settled[record_id] for record_id in sorted(settled)),
        duplicate_names=_duplicate_names(index),
    )


@dataclass(frozen=True)
class _Matcher:
    index: _Entries
    rules: MatchRules
    settings: SyncSettings
    links: Mapping[str, str]
    rejected: frozenset[tuple[str, str]]

    def _open(self, record_id: str, quickbooks_ids: Iterable[str]) -> list[str]:
        return [
            q
            for q in quickbooks_ids
            if self.links.get(q, record_id) == record_id and (record_id, q) not in self.rejected
        ]

    def match(self, record_id: str, record: HostRecord) -> RecordMatch:
        key = _record_key(record, self.rules.key)
        if self.rules.key is not None and key is not None:
            ids = self._open(record_id, self.index.by_key.get(key, ()))
            if ids:
                rule = KEY_RULE[self.rules.key]
                return self._decide(record_id, [Candidate(q, rule, PERFECT) for q in ids], key)
        if self.rules.names is not NameRule.OFF:
            name = normalise(_record_name(record))
            ids = self._open(record_id, self.index.by_name.get(name, ()))
            if ids:
                exact = [Candidate(q, MatchRule.NAME_EXACT, PERFECT) for q in ids]
                return self._decide(record_id, exact, key)
            if self.rules.names is NameRule.SIMILAR:
                similar = self._similar(record_id, name)
                if similar:
                    return self._decide(record_id, similar, key)
        missing = self.rules.key is not None and key is None
        return RecordMatch(record_id, Outcome.MISSING_KEY if missing else Outcome.NOT_FOUND)

    def _similar(self, record_id: str, name: str) -> list[Candidate]:
        # Names at most MAX_TYPOS apart differ in length by at most MAX_TYPOS: only the entries of such
        # lengths, one slice of the index, are scored, by the two scores of `similarity`, each in one call of
        # process.extract (C++) keeping those at or above the threshold; then those at most MAX_TYPOS apart.
        lo = bisect_left(self.index.lengths, len(name) - MAX_TYPOS)
        hi = bisect_right(self.index.lengths, len(name) + MAX_TYPOS)
        cutoff = self.settings.match_threshold
        best: dict[int, float] = {}
        for query, choices in ((name, self.index.names), (_sorted_words(name), self.index.sorted_names)):
            for choice, score, i in process.extract(
                query, choices[lo:hi], scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            ):
                if OSA.distance(query, choice, score_cutoff=MAX_TYPOS) <= MAX_TYPOS:
                    best[lo + i] = max(best.get(lo + i, 0.0), round(score, 1))
        ids = set(self._open(record_id, (self.index.ids[i] for i in best)))
        kept = [
            Candidate(self.index.ids[i], MatchRule.NAME_SIMILAR, score)
            for i, score in best.items()
            if self.index.ids[i] in ids
        ]
        if not kept:
            return []
        top = max(c.score for c in kept)
        return [c for c in kept if c.score > top - TIE_MARGIN]

    def _decide(self, record_id: str, candidates: list[Candidate], key: str | None) -> RecordMatch:
        if len(candidates) > 1:
            ranked = sorted(candidates, key=lambda c: (-c.score, c.quickbooks_id))
            return RecordMatch(record_id, Outcome.AMBIGUOUS, candidates=tuple(ranked))
        (match,) = candidates
        theirs = self.index.keys[match.quickbooks_id]
        disagrees = key is not None and theirs is not None and key != theirs
        accepted = match.score >= self.settings.match_auto_accept and not disagrees
        return RecordMatch(record_id, Outcome.MATCHED, match=match, auto_accepted=accepted)


def _settle_claims(found: Mapping[str, RecordMatch]) -> dict[str, RecordMatch]:
    """Host records matched to the same object are all ambiguous: which of them it is, a person decides."""
    claims: dict[str, list[str]] = defaultdict(list)
    for record_id, result in found.items():
        if result.match is not None:
            claims[result.match.quickbooks_id].append(record_id)
    settled = dict(found)
    for claimants in claims.values():
        if len(claimants) < 2:
            continue
        for record_id in claimants:
            match = found[record_id].match
            assert match is not None
            rivals = tuple(sorted(r for r in claimants if r != record_id))
            settled[record_id] = RecordMatch(record_id, Outcome.AMBIGUOUS, candidates=(match,), rivals=rivals)
    return settled


def _duplicate_names(index: _Entries) -> tuple[DuplicateName, ...]:
    duplicates = [
        DuplicateName(q, tuple(other for other in ids if other != q))
        for ids in index.by_name.values()
        if len(ids) > 1
        for q in ids
    ]
    return tuple(sorted(duplicates, key=lambda d: d.quickbooks_id))
