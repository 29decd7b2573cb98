"""The login's captcha: which kind shows, and passing the image kind (reference §2.1).

The login shows Google reCAPTCHA v2 (a token, handled by the flow's `_log_in`) or, "depending on how often
one logs in", an image of distorted characters with a field to type them. The image kind is recognised by
several signals, any one enough: the documented `#captchaImg`, an image named like a captcha, a field
labelled like "Digite os caracteres". It is passed by the configured image solver (the image's bytes →
the characters) or by a person at a visible browser who types them and submits; each refusal brings a
fresh image, and after `ChallengePolicy.image_attempts` refusals the login ends in CaptchaRefused, before
anything past the login form was touched.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Callable
from typing import Any, Literal

import structlog
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Request, expect

from flows.base import ChallengePolicy
from flows.cemig import intents
from flows.cemig.controls import pick
from flows.cemig.screens import Screens
from flows.cemig.vocabulary import pattern
from flows.errors import CaptchaRefused, ChallengeRequired

log = structlog.get_logger(__name__)
Guard = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


def image_locator(screens: Screens) -> Locator:
    """The captcha's image: named like one, or the documented `#captchaImg` (it may have no alt text)."""
    page = screens.page
    return page.get_by_role("img", name=pattern("captcha_image")).or_(page.locator("#captchaImg"))


def answer_field(screens: Screens) -> Locator:
    """The field the characters are typed into, by its label or placeholder."""
    page = screens.page
    by_label = page.get_by_role("textbox", name=pattern("captcha_field"))
    # Playwright counts a password input as a textbox: "mínimo de 8 caracteres" under it is not a captcha.
    return by_label.or_(page.get_by_placeholder(pattern("captcha_field")).and_(page.get_by_role("textbox"))).and_(
        page.locator(":not(input[type=password])"))


def recaptcha_widget(screens: Screens) -> Locator:
    """The reCAPTCHA v2 widget and iframe: documented markup without accessible names (reference §2.1)."""
    return screens.page.locator(".g-recaptcha[data-sitekey], iframe[src*='recaptcha']")


async def kind(screens: Screens) -> Literal["image", "recaptcha"] | None:
    """Which captcha the login form shows now (it has been recognised already: no waiting here)."""
    page = screens.page
    if await image_locator(screens).filter(visible=True).count() or await answer_field(screens).filter(
            visible=True).count():
        return "image"
    if await recaptcha_widget(screens).count() or await page.get_by_text(pattern("recaptcha_checkbox")).filter(
            visible=True).count():
        return "recaptcha"
    return None


_IMAGE_BYTES_JS = """async img => {
  // The image as the browser holds it: a data: URI decodes as is; a URL comes from the cache (refetching
  // could draw a new challenge on portals that make one per request).
  const response = await fetch(img.currentSrc || img.src, {cache: "force-cache", credentials: "include"});
  const bytes = new Uint8Array(await response.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}"""


async def image_bytes(screens: Screens, *, step: str = "login") -> bytes:
    """The bytes of the captcha image on screen (its own file when it can be read, else a screenshot of it)."""
    image = await pick(screens, image_locator(screens), step=step, purpose="read the captcha image")
    await expect(image).to_have_js_property("complete", True)  # type: ignore[arg-type]
    try:
        return base64.b64decode(await image.evaluate(_IMAGE_BYTES_JS))  # type: ignore[union-attr]
    except PlaywrightError:
        return await image.screenshot()  # type: ignore[union-attr]


async def type_answer(screens: Screens, answer: str, *, step: str = "login") -> None:
    """Type the characters into the captcha's field."""
    field = await pick(screens, answer_field(screens), step=step, purpose="type the captcha's characters")
    await field.fill(answer)  # type: ignore[union-attr]


async def log_in_with_image(screens: Screens, identifier: str, password: str, challenge: ChallengePolicy,
                            guard: Guard, *, step: str = "login") -> None:
    """Log in through the image captcha: solver first, else a person at the visible browser.

    Raises ChallengeRequired when no strategy is available or the person does not submit in time, and
    CaptchaRefused once `challenge.image_attempts` answers were refused (each refused solver answer is told
    to `challenge.image_rejected`); LoginRejected as any login does.
    """
    attempts = max(1, challenge.image_attempts)
    if challenge.image_solver is None and challenge.operator_wait_s <= 0:
        raise ChallengeRequired("the login asks for an image captcha and no strategy is available "
                                "(no valid saved session, not --headed, no image solver configured)",
                                step=step, page_url=screens.page.url)
    refused: CaptchaRefused | None = None
    for attempt in range(1, attempts + 1):
        answer = None
        try:
            if challenge.image_solver is not None:
                answer = await challenge.image_solver(await image_bytes(screens, step=step))
                async with guard():
                    await intents.log_in(screens, identifier, password, step=step)
                    await type_answer(screens, answer, step=step)
                    await intents.submit_login(screens, step=step)
            else:
                async with guard():
                    await intents.log_in(screens, identifier, password, step=step)
                    await _person_submits(screens, challenge.operator_wait_s, step=step)
            return
        except CaptchaRefused as exc:
            refused = exc
            log.info("captcha_answer_refused", kind="image", attempt=attempt, attempts=attempts,
                     by="solver" if answer is not None else "operator")
            if answer is not None and challenge.image_rejected is not None:
                await challenge.image_rejected(answer)
    raise CaptchaRefused(f"the portal refused {attempts} answers to its image captcha", step=step) from refused


async def _person_submits(screens: Screens, wait_s: float, *, step: str) -> None:
    """Wait for the person to type the characters and submit the form, then read the login's outcome."""
    page = screens.page
    stale = await intents.stale_alerts(screens)

    def submits(request: Request) -> bool:
        # The form's own submission (a page load or the single-page app's fetch) is the only POST the
        # login page sends once the bot has typed: the person pressed Enter or "Entrar".
        return request.method == "POST" and request.frame == page.main_frame

    # Listening before the cursor is put in the field: the person may type and submit at once.
    submitted = asyncio.ensure_future(page.wait_for_event("request", predicate=submits, timeout=wait_s * 1000))
    try:
        field = await pick(screens, answer_field(screens), step=step, purpose="put the cursor in the captcha's field",
                           required=False, timeout_s=2)
        if field is not None:
            await field.focus()
        await submitted
    except PlaywrightError:  # Playwright's TimeoutError is one
        raise ChallengeRequired(f"nobody typed the captcha's characters within {wait_s:.0f} s", step=step) from None
    finally:
        if not submitted.done():
            submitted.cancel()
            await asyncio.gather(submitted, return_exceptions=True)
    await intents.login_outcome(screens, stale, step=step)
