"""The conflict-aware sync engine and its wire protocol.

Pure core (no database, no HTTP, no asyncio): ``vocabulary``, ``protocol``, ``records``, ``merge``.
The engine that applies pushes and answers pulls (``engine/``) uses SQLAlchemy and the server's models,
but knows nothing of HTTP or the admin.
"""
