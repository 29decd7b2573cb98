"""Integrators' dashboard and JSON API (FastAPI + Jinja2, pt-BR pages).

It may import `service` (to run its jobs beside the dashboard), `bot`, `config`, `flows`, `processor` and
`storage`; never `cli`, `sandbox` or `simulator` (the sandbox hands its controls in through `web/sandbox.py`).
"""
