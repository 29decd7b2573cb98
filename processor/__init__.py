"""The mail pipeline: mailbox, routing, PDF unlock, bill parsers, forwarding."""
