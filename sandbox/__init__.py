"""What runs on embedded defaults: embedded mail, the embedded stack, `faturas demo`, `serve --sandbox`.

It starts the CEMIG simulator, pymap and aiosmtpd in-process and wires them to the real bot, service and
dashboard. It is the only package (besides tests and `bench/`) that may import `simulator`; it may import
every other package but `cli`.
"""
