"""Kader server: settings, auth, HTTP API, data model and migrations, CLI."""
