"""Clicking through what covers a control: wait briefly, then close the covering layer, then click again.

Component libraries put layers over the page: a menu's invisible backdrop, a dialog's dimmed backdrop
that shows a moment after the page rendered, a toast container. Playwright's click then waits, retrying,
until its deadline ("<div class=...> intercepts pointer events"). `clear_cover` is called after a short
first try: it reads what is on top at the control's centre and closes that layer as a person would: its
own close control (vocabulary "close", never a deny-listed one), else Escape, else a click on the bare
backdrop (a layer with no text and no control, the usual way to dismiss a menu). A layer that is part of
a step (it holds a password field or a checkbox: the current-password dialog, the terms) is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator

from flows.cemig.vocabulary import denied, pattern

if TYPE_CHECKING:
    from flows.cemig.screens import Screens

log = structlog.get_logger(__name__)
COVER_WAIT_S = 1.0
"""How long a click first waits for a covering layer to go by itself."""

_COVER_JS = """(e, [closeSource, denySource]) => {
  e.scrollIntoView({block: 'center', inline: 'center'});
  const r = e.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const top = document.elementFromPoint(x, y);
  if (!top || e === top || e.contains(top) || top.contains(e)) { return null; }
  let layer = top;  // the outermost positioned ancestor of what is on top: the whole overlay
  for (let n = top; n && n !== document.body && n !== document.documentElement; n = n.parentElement) {
    const position = getComputedStyle(n).position;
    if (position === 'fixed' || position === 'absolute') { layer = n; }
  }
  if (layer.contains(e)) { return null; }
  if (layer.querySelector('input[type=password], input[type=checkbox], [role=checkbox]')) {
    return {x, y, step: true, close: -1, bare: false};
  }
  const close = new RegExp(closeSource, 'i'), deny = new RegExp(denySource, 'i');
  const controls = Array.from(layer.querySelectorAll('button, [role=button], a[href]'));
  const names = controls.map(c => ((c.getAttribute('aria-label') || c.innerText || '') + '').trim());
  const index = names.findIndex(n => close.test(n) && !deny.test(n));
  const bare = !controls.length && !(layer.innerText || '').trim();
  return {x, y, step: false, close: index, name: index >= 0 ? names[index] : '', bare};
}"""


async def clear_cover(screens: Screens, target: Locator, *, step: str) -> bool:
    """Close the layer covering `target`; True when something covered it (and was dealt with)."""
    page = screens.page
    try:
        cover = await target.evaluate(_COVER_JS, [pattern("close", whole=True).pattern, pattern("deny").pattern])
    except PlaywrightError:
        return False
    if not cover or cover["step"]:
        return False
    if cover["close"] >= 0 and not denied(cover["name"]):
        handle = await target.evaluate_handle(
            """(e, [x, y, i]) => { let layer = document.elementFromPoint(x, y);
                 for (let n = layer; n && n !== document.body; n = n.parentElement) {
                   const p = getComputedStyle(n).position; if (p === 'fixed' || p === 'absolute') { layer = n; } }
                 return layer.querySelectorAll('button, [role=button], a[href]')[i]; }""",
            [cover["x"], cover["y"], cover["close"]])
        element = handle.as_element()
        if element is not None:
            await element.click(timeout=2000)
            screens.clicked.append(cover["name"])
            log.info("covering_layer_closed", step=step, by="close_control")
            return True
    await page.keyboard.press("Escape")
    still = await target.evaluate(_COVER_JS, ["(?!)", "(?!)"])
    if still and still["bare"]:
        await page.mouse.click(still["x"], still["y"])  # on the bare backdrop itself: it has nothing to press
        log.info("covering_layer_closed", step=step, by="backdrop")
    else:
        log.info("covering_layer_closed", step=step, by="escape")
    return True
