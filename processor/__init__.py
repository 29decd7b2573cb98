"""The mail pipeline: mailbox, routing, DKIM, PDF unlock, bill parsers, forwarding and the outbox.

It may import `storage`, and `reports` for the summary of a forwarded bill.
"""
