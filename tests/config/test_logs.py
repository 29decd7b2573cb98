import io
import json

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
