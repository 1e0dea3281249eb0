"""Checksum registries (``<dataset>.sha256``) of the public datasets chdml can fetch."""
