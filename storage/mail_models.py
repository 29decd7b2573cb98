"""Tables of the mail pipeline: examined messages, bills (invoices) and the forwarding outbox."""
