"""The CEMIG flow replayed offline against committed HAR fixtures (re-record: tests/flows/record_fixtures.py)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from flows.base import AdhesionRequest, ChallengePolicy, RetryPolicy
from flows.cemig.flow import CemigFlow
from flows.errors import FlowError
from flows.har_replay import HarReplay, load_har
from tests.aio import run_async

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).resolve().parent / "fixtures"
OFFLINE_BASE = "http://cemig.invalid"  # unresolvable: anything the router let through would fail


def replay(browser_settings, har: dict, target: str) -> tuple[object, HarReplay]:
    async def go():
        router = HarReplay(har)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            context = await browser.new_context()
            await router.attach(context)
            flow = CemigFlow(base_url=OFFLINE_BASE, action_timeout_ms=5000,
                             retry=RetryPolicy(max_restarts=0))
            request = AdhesionRequest(portal_login="123.456.789-09", portal_password="any-password",
                                      installation="3000055479", uc_code=None, target_email=target,
                                      holder_name="Maria Aparecida Souza")  # as record_fixtures gives it
            try:
                result = await flow.adhere(context, request, challenge=ChallengePolicy())
            except FlowError as error:
                result = error
            finally:
                await browser.close()
        return result, router

    return run_async(go())


@pytest.mark.parametrize("name", [f"cemig-{family}-fresh" for family in ("new", "legacy", "agv", "spa", "mui")])
def test_fixture_replays_to_an_enrolment(browser_settings, name):
    har = load_har(FIXTURES / f"{name}.har.zip")
    target = (FIXTURES / f"{name}.target").read_text().strip()
    result, router = replay(browser_settings, har, target)
    assert router.missing == [], router.describe_missing()
    assert not isinstance(result, Exception), result
    assert result.state == "enrolled" and result.changes == ("email_set", "enrolled") and result.submissions == 1
    assert result.steps[-1] == "verify_enrolled" and result.evidence
    if name in ("cemig-new-fresh", "cemig-legacy-fresh"):  # the families whose confirmation names the address
        assert target in result.evidence


def test_a_single_page_fixture_holds_the_body_of_the_login_fetch():
    """Chromium drops the body of a fetch the page navigates away from at once; the recorder restores it."""
    for family in ("spa", "mui"):
        har = load_har(FIXTURES / f"cemig-{family}-fresh.har.zip")
        (login,) = [e for e in har["log"]["entries"]
                    if e["request"]["method"] == "POST" and e["request"]["url"].endswith("/Login")]
        assert "redirect" in login["response"]["content"].get("text", ""), family


def test_a_fixture_missing_a_step_fails_with_a_clear_message(browser_settings):
    har = load_har(FIXTURES / "cemig-new-fresh.har.zip")
    target = (FIXTURES / "cemig-new-fresh.target").read_text().strip()
    entries = har["log"]["entries"]
    har["log"]["entries"] = [e for e in entries if "/ContaDigital/Adesao" not in e["request"]["url"]]
    result, router = replay(browser_settings, har, target)
    assert isinstance(result, FlowError)
    assert "POST /ContaDigital/Adesao" in router.describe_missing()
    assert "does not hold" in router.describe_missing()


def test_fixtures_hold_no_secret():
    for path in FIXTURES.glob("*.har.zip"):
        with zipfile.ZipFile(path) as archive:
            text = archive.read("recording.har").decode()
        for secret in ("Senha@Fixture-123", "Senha%40Fixture-123", "12345678909", "123.456.789-09"):
            assert secret not in text, (path.name, secret)
        har = json.loads(text)
        cookies = [h["value"] for e in har["log"]["entries"] for h in e["request"]["headers"]
                   if h["name"].lower() == "cookie"]
        assert cookies and all("REDACTED" in c for c in cookies)


def test_a_recorded_redirect_of_a_navigation_is_replayed_as_one(browser_settings):
    """The fixtures record `GET /Home` → 303 `/Login`: the replayed page is at /Login, as it was recorded."""
    har = {"log": {"entries": [
        {"request": {"method": "GET", "url": "http://127.0.0.1:1/Home"},
         "response": {"status": 303, "headers": [{"name": "Location", "value": "/Login"}], "content": {}}},
        {"request": {"method": "GET", "url": "http://127.0.0.1:1/Login"},
         "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "text/html"}],
                      "content": {"text": "<h1>Entrar</h1>"}}}]}}

    async def go():
        router = HarReplay(har)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**browser_settings.launch_options())
            try:
                context = await browser.new_context()
                await router.attach(context)
                page = await context.new_page()
                await page.goto(OFFLINE_BASE + "/Home")
                return page.url, await page.locator("h1").text_content(), router
            finally:
                await browser.close()

    url, heading, router = run_async(go())
    assert (url, heading) == (OFFLINE_BASE + "/Login", "Entrar")
    assert router.missing == [] and router.served == 2
