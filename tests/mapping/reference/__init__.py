"""Frozen copies of the task rendering modules (the spec the fast code must match)."""
