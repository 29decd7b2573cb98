"""Playwright page flows, one package per utility; no database access."""
