"""Evaluate a stack without an engine or a cluster: the program under mocks, the policy pack, a report."""
