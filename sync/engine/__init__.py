"""The sync engine: the one write path (``writer``), push, pull and conflict resolution. Uses SQLAlchemy
and the server's models; knows nothing of HTTP or the admin."""
