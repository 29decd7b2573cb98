"""Playwright page flows, one package per utility.

Flows take plain inputs and return plain results: they import no other package of the project (no
database access, no settings object).
"""
