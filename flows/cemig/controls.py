"""Choosing and clicking controls safely: one candidate or none, never a deny-listed one.

`pick` waits (web-first) for the candidates of an intent to show, reads their names, drops the
destructive ones (vocabulary.DENY) and returns the one left; two different candidates are ambiguous and
end in PortalChanged rather than a guess. `click` re-checks the deny list on the element it clicks, and
when a layer covers the control it closes that layer and clicks again (flows.cemig.overlays).
`card_action` finds the only control of a card by the card's title; `tickable_checkbox` and `tick` tick a
checkbox a person can tick, through its label when the native input is visually hidden.
"""

from __future__ import annotations

import re

import structlog
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from flows.cemig.overlays import COVER_WAIT_S, clear_cover
from flows.cemig.screens import Screens, same_words
from flows.cemig.vocabulary import denied

log = structlog.get_logger(__name__)

_NAMES_JS = """els => els.map(e => ({
  name: ((e.getAttribute('aria-label') || e.innerText || e.value || e.getAttribute('title') || '') + '').trim(),
  href: e.getAttribute('href') || e.getAttribute('action') || '',
}))"""


async def names_of(locator: Locator) -> list[dict]:
    """The accessible-ish name and target of every element `locator` matches (one round trip)."""
    try:
        return await locator.evaluate_all(_NAMES_JS)
    except PlaywrightError:
        return []


async def pick(screens: Screens, candidates: Locator, *, step: str, purpose: str, timeout_s: float | None = None,
               required: bool = True, prefer: re.Pattern[str] | None = None,
               interchangeable: bool = False) -> Locator | None:
    """The one visible, non-destructive control among `candidates`, waiting for it up to the deadline.

    Several candidates with the same name and target count as one (a link in a card and its icon).
    With `prefer`, candidates whose name matches it win over the others. Raises PortalChanged (with the
    rejected names as evidence) when none is left or the choice is ambiguous; returns None instead when
    `required` is false and nothing shows. `interchangeable` candidates all do the same thing ("Fechar"
    and "Agora não" on one dialog both close it): the first is taken instead of refusing.
    """
    visible = candidates.filter(visible=True)
    timeout = (timeout_s if timeout_s is not None else screens.timeout_s) * 1000
    try:
        # Web-first, and it also lets the interstitial handler run first: what is read next is what a
        # click would reach, not a control an overlay is about to take away.
        await expect(visible).not_to_have_count(0, timeout=timeout)
    except AssertionError:
        if not required:
            return None
        raise await screens.changed(step, f"no control to {purpose}") from None
    found = await names_of(visible)
    rejected = [f"{item['name']!r} (deny list)" for item in found if denied(item["name"])]
    allowed = [index for index, item in enumerate(found) if not denied(item["name"])]
    if prefer is not None and any(prefer.search(found[i]["name"]) for i in allowed):
        rejected += [f"{found[i]['name']!r} (less specific)" for i in allowed if not prefer.search(found[i]["name"])]
        allowed = [i for i in allowed if prefer.search(found[i]["name"])]
    distinct = {(" ".join(found[i]["name"].split()).casefold(), found[i]["href"]) for i in allowed}
    if not allowed:
        if not required:
            return None
        raise await screens.changed(step, f"every control to {purpose} is on the deny list", rejected=rejected)
    if len(distinct) > 1 and not interchangeable:
        names = [found[i]["name"] for i in allowed]
        if not all(same_words(n, names[0]) for n in names):
            raise await screens.changed(step, f"{len(distinct)} different controls could {purpose}: refusing to guess",
                                        rejected=rejected + [repr(n) for n in names])
    # Chosen after reading every candidate: the index is the one checked above, not a way around strictness.
    return visible.nth(allowed[0])


async def click(screens: Screens, target: Locator, *, step: str, timeout_s: float | None = None) -> str:
    """Click `target` after checking its name against the deny list; returns the name clicked."""
    (item,) = await names_of(target) or [{"name": "", "href": ""}]
    if denied(item["name"]):
        raise await screens.changed(step, f"refused to click {item['name']!r}: it is on the deny list",
                                    rejected=[item["name"]])
    total = timeout_s if timeout_s is not None else screens.timeout_s
    first = min(COVER_WAIT_S, total)
    try:
        await target.click(timeout=first * 1000)  # scrolls it into view itself
    except PlaywrightTimeout as exc:
        if "click action done" in str(exc):
            # Clicked, and the navigation it started is slow: never a second click. What comes next is the
            # caller's to wait for (it observes until a recognisable screen or its deadline).
            log.info("click_done_navigation_pending", step=step, control=item["name"])
            screens.clicked.append(item["name"])
            return item["name"]
        if total <= first:
            raise
        # Not clicked yet: something covers it, or it is still on its way. Close a covering layer, then the rest.
        await clear_cover(screens, target, step=step)
        await target.click(timeout=max(total - first, 0.5) * 1000)
    screens.clicked.append(item["name"])
    return item["name"]


_CARD_ACTION_JS = """(els, [source, flags]) => {
  const title = new RegExp(source, flags);
  const controls = 'button, a[href], [role=button], [role=link], [role=menuitem]';
  return els.map(el => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      if (node.querySelectorAll(controls).length > 1) { return false; }  // a block with other controls: no card
      let text = (node.innerText || '');
      const own = (el.innerText || '');
      if (own) { text = text.replace(own, ' '); }
      if (title.test(text)) { return true; }
    }
    return false;
  });
}"""


async def card_action(screens: Screens, title: re.Pattern[str], *, step: str, purpose: str) -> Locator | None:
    """The one action control of the card titled `title` (a Material-UI card: title, text, one button).

    The card's title is plain text and its only control a generic "Acessar" / "Ver" / an arrow.

    A card is the largest block around a control that holds no other control; its text (less the control's
    own) must match `title`. None when no card matches; PortalChanged when several do.
    """
    page = screens.page
    controls = page.get_by_role("button").or_(page.get_by_role("link")).filter(visible=True)
    flags = "i" if title.flags & re.IGNORECASE else ""
    try:
        hits = await controls.evaluate_all(_CARD_ACTION_JS, [title.pattern, flags])
    except PlaywrightError:
        return None
    indices = [i for i, hit in enumerate(hits) if hit]
    if not indices:
        return None
    found = await names_of(controls)
    allowed = [i for i in indices if not denied(found[i]["name"])]
    if len(allowed) != 1:
        raise await screens.changed(step, f"{len(indices)} cards could {purpose}: refusing to guess",
                                    rejected=[repr(found[i]["name"]) for i in indices])
    return controls.nth(allowed[0])


_CHECKBOX_JS = """els => els.map(e => {
  const seen = x => { if (!x) return false; const r = x.getBoundingClientRect();
                      const s = getComputedStyle(x); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; };
  const label = (e.labels && e.labels[0]) || e.closest('label');
  const name = (label && label.innerText) || e.getAttribute('aria-label') || '';
  return {visible: seen(e), label: seen(label), name: name.trim()};
})"""


async def tickable_checkbox(screens: Screens, boxes: Locator, *, step: str, purpose: str,
                            prefer: re.Pattern[str] | None = None) -> tuple[Locator, bool]:
    """The one checkbox among `boxes` a person could tick, and whether it is ticked through its label.

    Styled checkboxes (Material-UI, Bootstrap custom controls) hide the native input (zero size, clipped)
    and draw a box inside its label: the input is not visible, its label is, and clicking the label ticks it.
    """
    try:
        await expect(boxes).not_to_have_count(0, timeout=screens.timeout_s * 1000)
    except AssertionError:
        raise await screens.changed(step, f"no checkbox to {purpose}") from None
    try:
        found = await boxes.evaluate_all(_CHECKBOX_JS)
    except PlaywrightError:
        found = []
    usable = [i for i, item in enumerate(found) if item["visible"] or item["label"]]
    if prefer is not None and len(usable) > 1 and any(prefer.search(found[i]["name"]) for i in usable):
        usable = [i for i in usable if prefer.search(found[i]["name"])]
    if len(usable) != 1:
        raise await screens.changed(step, f"{len(usable)} checkboxes could {purpose}: refusing to guess",
                                    rejected=[repr(item["name"]) for item in found])
    (index,) = usable
    if denied(found[index]["name"]):
        raise await screens.changed(step, f"refused to tick {found[index]['name']!r}: it is on the deny list")
    return boxes.nth(index), not found[index]["visible"]


async def tick(screens: Screens, box: Locator, *, through_label: bool, step: str) -> None:
    """Tick `box`: directly when it is visible, else by clicking its label (what a person clicks)."""
    if through_label:
        handle = await box.evaluate_handle("e => (e.labels && e.labels[0]) || e.closest('label')")
        label = handle.as_element()
        if label is None:
            raise await screens.changed(step, "a hidden checkbox without a label: nothing a person could tick")
        if not await box.is_checked():
            await label.click()
        await expect(box).to_be_checked()
    else:
        await box.check()
