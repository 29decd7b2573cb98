"""CEMIG bill PDF generator (synthetic bills with the real layout)."""
