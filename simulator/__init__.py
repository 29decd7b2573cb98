"""A local CEMIG for tests, QA and the demo: Agência Virtual, bill PDF generator and bill mailer.

It may import `processor` (the bill schema it renders) and nothing else of the project; only `sandbox`,
tests and `bench/` import it.
"""
