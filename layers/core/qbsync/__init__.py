"""qbsync: sync a SaaS application's tenants with QuickBooks Online and QuickBooks Desktop."""

__version__ = "0.2.0"
