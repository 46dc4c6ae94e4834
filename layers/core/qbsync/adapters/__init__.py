"""Adapters: the domain's ports implemented over AWS services and QuickBooks protocols."""
