"""The onboarding bot: enrols units in the utility's e-mail bills over `flows/`, records and scrubs HAR fixtures.

It runs adhesion attempts (browser, contexts per portal login, retries, evidence) and writes their outcome
through `storage/`. It may import `config`, `flows`, `processor` and `storage`; never `cli`, `service`,
`web`, `sandbox` or `simulator`.
"""
