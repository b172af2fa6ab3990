"""Agent Runtime platform components: one ComponentResource per module."""
