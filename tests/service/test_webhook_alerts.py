"""`alert.raised`: the report's alerts as a webhook event, once per alert (and per day for a missing bill)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import httpx

from config.wiring import build_pipeline
from processor.uploads import import_files
from reports.alerts import AlertThresholds
from service.webhooks import register_endpoint, run_webhooks, verify
from simulator.bills.generator import generate_bill
from storage.engine import session_scope
from storage.models import Unit, utcnow
from tests.processor.mime import profile
from tests.service.test_webhooks import receiver  # noqa: F401 - the receiving HTTP server


def _import(web, unit_id: int, installation: str, tmp_path, *, reading_basis: str | None) -> None:  # noqa: ANN001
    generated = generate_bill(dataclasses.replace(profile(installation), reading_basis=reading_basis), "2026-11")
    path = tmp_path / f"{installation}.pdf"
    path.write_bytes(generated.pdf)
    (result,) = import_files(build_pipeline(web.app), unit_ref=str(unit_id), paths=[path])
    assert result.outcome == "new", result


def _events(server) -> list[tuple[str, dict]]:  # noqa: ANN001
    return [(h["x-faturas-event"], json.loads(b)) for h, b in server.received]


def test_alerts_are_sent_once_to_the_endpoints_that_subscribed(web, receiver, tmp_path):  # noqa: F811
    ana = web.user("ana@solar.example.com")
    estimated = web.unit(ana, 1)
    normal = web.unit(ana, 2)
    keys = web.app.keys()
    with session_scope(web.app.engine) as session:
        _, secret = register_endpoint(session=session, keys=keys, integrator_id=ana, url=receiver.url)
        register_endpoint(session=session, keys=keys, integrator_id=ana, url=receiver.url + "/faturas-only",
                          events=["invoice.received"])
    _import(web, estimated, "3000000001", tmp_path, reading_basis="average")
    _import(web, normal, "3000000002", tmp_path, reading_basis=None)

    now = utcnow()
    limits = AlertThresholds()
    with httpx.Client(timeout=10) as client:
        without = run_webhooks(engine=web.app.engine, keys=keys, client=client, now=lambda: now)
        assert without.queued == 4  # two bills × two endpoints; no alert scan without thresholds
        first = run_webhooks(engine=web.app.engine, keys=keys, client=client, now=lambda: now, alert_limits=limits)
        assert (first.queued, first.delivered) == (1, 1)  # one alert, for one endpoint: not the invoices-only one
        again = run_webhooks(engine=web.app.engine, keys=keys, client=client, now=lambda: now + timedelta(hours=2),
                             alert_limits=limits)
        assert again.queued == 0  # the same alert is not sent twice
    alerts = {(json.loads(b)["data"]["unit_id"], json.loads(b)["data"]["code"]): (h, b)
              for h, b in receiver.received if h["x-faturas-event"] == "alert.raised"}
    # The normal bill's unit raises nothing: its bill was read, and its 0,65 kWh balance is under the 1 kWh
    # CEMIG can compensate (reports.alerts.MIN_COMPENSABLE_KWH), so it is no "credits left unused".
    assert set(alerts) == {(estimated, "reading_estimated")}
    assert normal not in {unit for unit, _ in alerts}
    headers, body = alerts[(estimated, "reading_estimated")]
    assert verify(secret, int(headers["x-faturas-timestamp"]), body, headers["x-faturas-signature"])
    payload = json.loads(body)
    assert payload["data"]["unit_id"] == estimated and payload["data"]["code"] == "reading_estimated"
    assert payload["data"]["month"] == "2026-11" and payload["data"]["actor"] == "integrator"
    assert "pela média" in payload["data"]["detail"]
    assert headers["idempotency-key"] == f"alert.raised:{estimated}:reading_estimated:2026-11"


def test_a_missing_bill_alert_is_sent_again_each_day_it_holds(web, receiver):  # noqa: F811
    ana = web.user("ana@solar.example.com")
    unit_id = web.unit(ana, 1)
    keys = web.app.keys()
    with session_scope(web.app.engine) as session:
        register_endpoint(session=session, keys=keys, integrator_id=ana, url=receiver.url, events=["alert.raised"])
        unit = session.get(Unit, unit_id)
        unit.adhesion_status = "bill_overdue"
        session.add(unit)
    now = utcnow()
    limits = AlertThresholds()
    with httpx.Client(timeout=10) as client:
        for hours in (0, 1, 24):
            run_webhooks(engine=web.app.engine, keys=keys, client=client, now=lambda h=hours: now + timedelta(hours=h),
                         alert_limits=limits)
    keys_sent = [h["idempotency-key"] for h, _ in receiver.received]
    assert [k.rsplit(":", 1)[0] for k in keys_sent] == [f"alert.raised:{unit_id}:bill_missing"] * 2
    assert len(set(keys_sent)) == 2  # today's, then tomorrow's
    assert all(e == "alert.raised" for e, _ in _events(receiver))
