"""Helpers shared by the tests. Test modules import from here (and from ``tests.syncing``), never from
one another, so a test file can be moved, renamed or deleted without breaking another."""
