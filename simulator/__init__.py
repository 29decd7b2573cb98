"""A local CEMIG: Agência Virtual, bill PDF generator and bill mailer."""
