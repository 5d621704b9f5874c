"""piccolo-admin for kecamatan admins, on Piccolo tables derived from the SQLAlchemy metadata."""
