"""Regions: loading the Kemendagri register and reading desa, dusun and kader within a scope."""
