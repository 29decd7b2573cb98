"""Integrators' dashboard and JSON API."""
