"""Photo attachments (signed attendance lists, sketches): files named by SHA-256, stored per desa."""
