"""A batch run of the bot as a command asks for it: which units, with what options, to completion."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.adhesion import AdhesionOptions, UnitOutcome, adhere_units
from config.context import AppContext
from flows.browser import BrowserSettings
from storage.adhesion import units_to_adhere
from storage.engine import session_scope
from storage.errors import UnitInputError
from storage.units import get_unit


def units_for_run(app: AppContext, *, refs: list[str], all_pending: bool) -> list[int]:
    """The unit ids to enrol: every unit whose next step is the bot's, or the named ones.

    Raises UnitNotFound for a reference that matches no unit, UnitInputError when neither is given.
    """
    with session_scope(app.engine) as session:
        if all_pending:
            units = units_to_adhere(session=session)
        elif refs:
            units = [get_unit(session=session, ref=ref) for ref in refs]
        else:
            raise UnitInputError("units", "name the units to enrol, or use --all-pending")
        return [u.id for u in units if u.id is not None]


def options_for_run(app: AppContext, *, concurrency: int | None = None, headed: bool = False,
                    attempts: int | None = None) -> AdhesionOptions:
    """The options of a run, each unset one from playwright.config or the settings."""
    browser = BrowserSettings.load(app.settings.playwright_config)
    return AdhesionOptions(concurrency=concurrency or browser.concurrency, headed=headed,
                           attempts=attempts or app.settings.adhesion_attempts,
                           backoff_s=app.settings.adhesion_backoff_s)


def run_units(app: AppContext, unit_ids: list[int], options: AdhesionOptions,
              on_done: Callable[[UnitOutcome], None] | None = None) -> list[UnitOutcome]:
    """Enrol the units (blocking), calling `on_done` as each one ends; the outcomes sorted by unit id."""
    outcomes = asyncio.run(adhere_units(app, unit_ids, options, on_done=on_done))
    return sorted(outcomes, key=lambda o: o.unit_id)
