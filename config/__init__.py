"""Configuration and composition root: the settings object, `AppContext`, the builders and logging set-up.

Settings come from environment variables and one TOML file, are validated once and passed down explicitly.
`AppContext` opens the engine and keys lazily; `config/wiring.py` builds what commands, jobs and pages share
(the blob store, the mail pipeline). `bot`, `service`, `web`, `sandbox` and `cli` take their context from
here. It may import `processor` and `storage` only.
"""
