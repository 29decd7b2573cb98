"""Choosing and clicking controls safely: one candidate or none, never a deny-listed one.

`pick` waits (web-first) for the candidates of an intent to show, reads their names, drops the
destructive ones (vocabulary.DENY) and returns the one left; two different candidates are ambiguous and
end in PortalChanged rather than a guess. `click` re-checks the deny list on the element it clicks.
"""

from __future__ import annotations

import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, expect

from flows.cemig.screens import Screens, same_words
from flows.cemig.vocabulary import denied

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
    timeout = None if timeout_s is None else timeout_s * 1000
    await target.click(timeout=timeout)  # scrolls it into view itself
    screens.clicked.append(item["name"])
    return item["name"]
