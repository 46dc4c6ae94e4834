"""Tenants: the host app's customers, each with one QuickBooks company."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
TENANT_NAME_MAX = 200
_TENANT_ID = re.compile(TENANT_ID_PATTERN)


class Edition(StrEnum):
    """Which QuickBooks the tenant keeps its books in."""

    QBO = "qbo"  # QuickBooks Online, through the REST API and OAuth
    QBD = "qbd"  # QuickBooks Desktop, through the Web Connector


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    edition: Edition
    created_at: datetime

    def __post_init__(self) -> None:
        if not is_valid_tenant_id(self.id):
            raise ValueError(f"invalid tenant id {self.id!r}")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must carry a time zone")


def is_valid_tenant_id(value: str) -> bool:
    return bool(_TENANT_ID.fullmatch(value))
