import io
import json
from datetime import datetime

import structlog

from config.logs import REDACTED, configure_logging


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_with_bound_context_and_secret_fields_redacted():
    stream = io.StringIO()
    configure_logging(fmt="auto", level="info", stream=stream)  # StringIO is not a terminal: JSON
    log = structlog.get_logger()
    with structlog.contextvars.bound_contextvars(unit_id=7, run_id="r1"):
        log.info("unit_created", portal_password="hunter22", extra={"pdf_password": "4321", "ok": "visible"},
                 has_pdf_password=True, headers=[{"Authorization": "Bearer abc.def"}])
    (event,) = _lines(stream)
    assert event["event"] == "unit_created" and event["unit_id"] == 7 and event["run_id"] == "r1"
    assert event["portal_password"] == REDACTED
    assert event["extra"] == {"pdf_password": REDACTED, "ok": "visible"}
    assert event["has_pdf_password"] is True
    assert event["headers"] == [{"Authorization": REDACTED}]
    assert "hunter22" not in stream.getvalue() and "4321" not in stream.getvalue()


def test_registered_secret_values_are_masked_inside_messages_and_tracebacks():
    stream = io.StringIO()
    redactor = configure_logging(fmt="json", stream=stream)
    redactor.register("S3nh@Forte")
    log = structlog.get_logger()
    try:
        raise ValueError("login failed for password S3nh@Forte")
    except ValueError:
        log.exception("adhesion_step_failed", note="typed S3nh@Forte into the field")
    text = stream.getvalue()
    assert "S3nh@Forte" not in text
    event = _lines(stream)[0]
    assert REDACTED in event["note"] and REDACTED in event["exception"]


def test_level_filtering():
    stream = io.StringIO()
    configure_logging(fmt="json", level="warning", stream=stream)
    structlog.get_logger().info("quiet")
    structlog.get_logger().warning("loud")
    assert [e["event"] for e in _lines(stream)] == ["loud"]


def test_a_short_numeric_secret_is_masked_in_messages_but_leaves_the_time_stamp_readable():
    stream = io.StringIO()
    redactor = configure_logging(fmt="json", level="info", stream=stream)
    log = structlog.get_logger()
    log.info("probe")
    (probe,) = _lines(stream)
    digits = probe["timestamp"][:4]  # the year, e.g. "2026"
    redactor.register(digits)  # a 4-digit PDF password that happens to be inside every time stamp
    log.info("pdf_password_tried", note=f"password {digits} refused")
    event = _lines(stream)[-1]
    assert event["note"] == f"password {REDACTED} refused"
    assert event["timestamp"].startswith(digits)  # still an ISO time stamp, parseable
    datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
