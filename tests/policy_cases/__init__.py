"""Fixtures and runners for the policy-pack tests (tests/test_policies*.py)."""
