"""Routers, one per resource; HTTP glue only."""
