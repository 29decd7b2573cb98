"""structlog configuration: JSON lines off a terminal, the console renderer on one, secrets redacted.

`configure_logging` runs once, from the CLI callback or the service bootstrap. Context such as unit id,
run id, message UID and attempt id is bound with `structlog.contextvars.bound_contextvars`; APScheduler
worker threads do not inherit contextvars, so each job binds its own.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"

# Any event key containing one of these words is treated as secret, whatever it holds.
SECRET_KEY_WORDS = ("password", "passwd", "senha", "secret", "token", "cookie", "authorization",
                    "api_key", "apikey", "storage_state", "fernet", "private_key")


class RedactSecrets:
    """A structlog processor that hides secret fields and any registered secret value.

    Fields are secret by name (see SECRET_KEY_WORDS), at any depth of dicts and lists. Values
    registered with `register` (decrypted passwords the process is holding) are also masked wherever
    they appear inside another string, e.g. in an exception message.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str | None) -> None:
        """Mask this value in every later event (values shorter than 4 characters are ignored)."""
        if value and len(value) >= 4:
            with self._lock:
                self._values.add(value)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._values:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: REDACTED if _is_secret_key(k) and v else self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._clean(v) for v in value)
        return value

    def __call__(self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        """Redact one event in place (not the time stamp and level structlog added: they hold no secret)."""
        for key in list(event_dict):
            if key in _OWN_FIELDS:  # a 4-digit PDF password is inside many time stamps: masking it broke them
                continue
            if _is_secret_key(key) and event_dict[key]:
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._clean(event_dict[key])
        return event_dict


_OWN_FIELDS = frozenset({"timestamp", "level"})


def _is_secret_key(key: Any) -> bool:
    lowered = str(key).lower()
    if lowered.startswith("has_"):  # has_pdf_password=True says nothing secret
        return False
    return any(word in lowered for word in SECRET_KEY_WORDS)


class _StderrLoggerFactory:
    """Makes loggers that write to whatever sys.stderr is at the time."""

    def __call__(self, *_args: Any) -> structlog.PrintLogger:
        """A logger bound to the current sys.stderr."""
        return structlog.PrintLogger(file=sys.stderr)


def configure_logging(*, fmt: str = "auto", level: str = "info", stream: TextIO | None = None,
                      redactor: RedactSecrets | None = None) -> RedactSecrets:
    """Configure structlog once; returns the redactor so callers can register secret values."""
    out = stream or sys.stderr
    redactor = redactor or RedactSecrets()
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    # Without an explicit stream, look sys.stderr up at each write: it may be replaced after start-up.
    factory: Any = structlog.PrintLoggerFactory(file=stream) if stream is not None else _StderrLoggerFactory()
    renderer: Any = (structlog.dev.ConsoleRenderer(colors=out.isatty()) if use_console
                     else structlog.processors.JSONRenderer(sort_keys=True))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redactor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=factory,
        cache_logger_on_first_use=False,
    )
    return redactor
