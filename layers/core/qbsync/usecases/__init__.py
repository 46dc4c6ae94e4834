"""Use cases: one function per thing a caller can ask for, written against the domain's ports."""
