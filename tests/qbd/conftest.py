"""Every answer the simulated company writes in these tests is checked against Intuit's schema when it is
beside the project (../shared/reference): the stand-in must never answer in a shape QuickBooks cannot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.qbd import processor
from local.qbd.company import CompanySession
from tests.qbxml_reference import XSD, schema_errors


@pytest.fixture(autouse=True)
def _answers_validate(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not XSD.is_file():
        yield
        return
    process, hcp = processor.Processor.process, CompanySession.hcp_response

    def checked_process(self: processor.Processor, message: str) -> str:
        answer = process(self, message)
        assert schema_errors(answer) == [], answer
        return answer

    def checked_hcp(self: CompanySession) -> str:
        answer = hcp(self)
        assert schema_errors(answer) == [], answer
        return answer

    monkeypatch.setattr(processor.Processor, "process", checked_process)
    monkeypatch.setattr(CompanySession, "hcp_response", checked_hcp)
    yield
