"""Accounts, device tokens, log-in throttling and access scope."""
