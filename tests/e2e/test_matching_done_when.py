"""The issue's done-when for automatch on the local stack, in both editions, at a twelfth of its sizes (the
full 500 customers, 300 items and 200 vendors: `python -m bench --matching full`, run by `make bench`): a
company seeded with the planted company's QuickBooks side (the Online sandbox's, or a Desktop stand-in's
company file read through the simulated Web Connector), the host's records pushed as drafts, POST /matches
with precision >= 0.99 and recall >= 0.95 against the truth and every planted ambiguous case listed; the
proposals the truth confirms accepted, every draft sent, and 0 duplicates created in QuickBooks (by name,
email and SKU: Desktop's ManufacturerPartNumber). About 30 s an edition on two shared cores."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench import matching
from local import stack as local_stack
from local.seed_matching import planted_company

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def running() -> Iterator[local_stack.RunningStack]:
    saved = dict(os.environ)
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=True)
    yield stack
    stack.stop()
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize("edition", ["qbo", "qbd"], ids=["online", "desktop"])
def test_matching_the_planted_company_then_sending_every_draft_creates_no_duplicate(
    running: local_stack.RunningStack, edition: str
) -> None:
    figures = matching.run_on(running, planted_company(12, customers=40, items=24, vendors=16), edition)
    shown = matching.format_figures([figures])
    assert figures.edition == edition
    assert figures.precision >= matching.PRECISION_TARGET, shown
    assert figures.recall >= matching.RECALL_TARGET, shown
    assert figures.ambiguous_listed == figures.ambiguous_planted > 0, shown
    assert figures.accepted > 0, shown
    assert figures.created > 0, shown
    assert figures.duplicates == 0, shown
