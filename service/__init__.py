"""The unattended service, `faturas run`: scheduler jobs, IMAP IDLE, watchdog, status, webhook delivery.

Any number of workers share the work through the database (leases, SKIP LOCKED). It may import `bot`,
`config`, `flows`, `processor` and `storage`; never `cli`, `web`, `sandbox` or `simulator`.
"""
