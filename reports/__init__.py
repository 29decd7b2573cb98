"""The detailed report ("Relatório detalhado") an integrator sends a client: per unit and per client.

Month by month: savings against a bill without solar, credits, alerts, and pt-BR formatting for every output.
Pure computation over stored bills: it may import `storage` only, so the dashboard, the service (digests,
webhooks) and the forwarded e-mail's summary (`processor/forward.py`) can all use it.
"""
