"""The one error the Web Connector endpoint answers with a SOAP Fault instead of a result."""

from __future__ import annotations

from enum import StrEnum


class FaultCode(StrEnum):
    """SOAP 1.1 fault codes (section 4.4.1); written as `soap:<code>`."""

    VERSION_MISMATCH = "VersionMismatch"
    MUST_UNDERSTAND = "MustUnderstand"
    CLIENT = "Client"
    SERVER = "Server"


class SoapFaultError(Exception):
    """The call cannot be answered with a result; `message` tells the caller why, without internals."""

    def __init__(self, message: str, code: FaultCode = FaultCode.CLIENT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
