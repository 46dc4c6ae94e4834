"""Operator commands for a deployed (or local) stack, run with `.venv/bin/python -m ops.<command>`."""
