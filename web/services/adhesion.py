"""Adhesion from the dashboard: queue a unit, run `bot.adhesion.adhere_units` in a background thread, read status.

One thread per queued unit, each with its own event loop and browser; a unit already queued or running in
this process is not queued twice. The scheduler service (`faturas run`) picks up `pending` units anyway,
so a restart loses nothing but the immediacy.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlmodel import Session

from bot.adhesion import AdhesionOptions, adhere_units
from config.context import AppContext
from storage.adhesion import attempts_of
from storage.engine import session_scope
from storage.models import NEXT_ACTOR, AdhesionAttempt, AdhesionStatus, Unit
from storage.units import get_unit, set_adhesion_status

log = structlog.get_logger(__name__)

FINAL = frozenset({AdhesionStatus.ENROLLED, AdhesionStatus.VERIFIED, AdhesionStatus.INVALID_CREDENTIALS,
                   AdhesionStatus.PASSWORD_REQUIRED,
                   AdhesionStatus.CAPTCHA_REQUIRED, AdhesionStatus.INSTALLATION_NOT_FOUND,
                   AdhesionStatus.PORTAL_CHANGED, AdhesionStatus.PORTAL_UNAVAILABLE})


class AdhesionRunner:
    """Runs adhesions for the dashboard in background threads."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        self._active: set[int] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def queue(self, *, session: Session, unit: Unit) -> bool:
        """Mark the unit pending and start its run; False when it is already running here."""
        assert unit.id is not None  # noqa: S101 - a stored unit
        with self._lock:
            if unit.id in self._active:
                return False
            self._active.add(unit.id)
        set_adhesion_status(session=session, unit=unit, status=AdhesionStatus.PENDING,
                            message="Adesão na fila.")
        session.commit()  # the thread reads the unit from its own session
        thread = threading.Thread(target=self._run, args=(unit.id,), name=f"adhesion-{unit.id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        log.info("adhesion_queued", unit_id=unit.id)
        return True

    def _run(self, unit_id: int) -> None:
        structlog.contextvars.bind_contextvars(unit_id=unit_id, job="dashboard_adhesion")
        settings = self.app.settings
        options = AdhesionOptions(concurrency=1, attempts=settings.adhesion_attempts,
                                  backoff_s=settings.adhesion_backoff_s)
        try:
            asyncio.run(adhere_units(self.app, [unit_id], options))
        except Exception:  # a crash must not leave the unit "pending" without a word
            log.exception("adhesion_run_crashed")
            with session_scope(self.app.engine) as session:
                unit = get_unit(session=session, ref=unit_id)
                set_adhesion_status(session=session, unit=unit, status=AdhesionStatus.PORTAL_CHANGED,
                                    message="Falha inesperada do robô; avise o suporte.")
        finally:
            with self._lock:
                self._active.discard(unit_id)
            structlog.contextvars.unbind_contextvars("unit_id", "job")

    def running(self, unit_id: int) -> bool:
        """Whether this process is running the unit's adhesion now."""
        return unit_id in self._active

    def join(self, timeout: float = 30.0) -> None:
        """Wait for the background runs (tests and shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)


_QUEUED = frozenset({AdhesionStatus.PENDING, AdhesionStatus.RUNNING, AdhesionStatus.EMAIL_SET,
                     AdhesionStatus.ENROLLED_ELSEWHERE})


class ServiceAdhesionRunner(AdhesionRunner):
    """Hands adhesions to the service running in this process (`serve --with-worker`, `serve --sandbox`).

    The service's `adhesion_queue` job takes every unit whose next step is the bot's under a lease, so
    a browser thread of our own would race it for the same unit: queueing marks the unit pending (due
    now) and wakes that job instead. A unit is running while the service holds its lease, or from the
    click until the bot's state is no longer the bot's.
    """

    def __init__(self, app: AppContext, wake: Callable[[], None]) -> None:
        super().__init__(app)
        self.wake = wake

    def queue(self, *, session: Session, unit: Unit) -> bool:
        """Mark the unit pending and due, then wake the service; False when it is queued or in hand already."""
        assert unit.id is not None  # noqa: S101 - a stored unit
        if self.running(unit.id):
            return False
        set_adhesion_status(session=session, unit=unit, status=AdhesionStatus.PENDING, message="Adesão na fila.")
        unit.adhesion_next_at = None  # a person asked: no waiting for the retry schedule
        session.commit()
        with self._lock:
            self._active.add(unit.id)
        self.wake()
        log.info("adhesion_queued", unit_id=unit.id, runner="service")
        return True

    def running(self, unit_id: int) -> bool:
        """Whether the service holds the unit, or it was queued here and the bot has not finished it."""
        with session_scope(self.app.engine) as session:
            unit = session.get(Unit, unit_id)
            held = unit is not None and unit.adhesion_lease_owner is not None
            queued = (unit is not None and unit_id in self._active
                      and AdhesionStatus(unit.adhesion_status) in _QUEUED)
        if not held and not queued:
            with self._lock:
                self._active.discard(unit_id)
        return held or queued


@dataclass(frozen=True)
class AdhesionView:
    """What the unit page and the API show about a unit's adhesion."""

    status: str
    next_actor: str
    message: str | None
    message_pt: str | None
    step: str | None
    attempt_id: int | None
    screenshot_attempt_id: int | None
    running: bool
    final: bool


def adhesion_view(*, session: Session, unit: Unit, runner: AdhesionRunner | None = None) -> AdhesionView:
    """The unit's adhesion state, the step of its last attempt and a failure screenshot to show, if any."""
    status = AdhesionStatus(unit.adhesion_status)
    attempts = attempts_of(session=session, unit_id=unit.id or 0)
    last = attempts[0] if attempts else None
    shot = _last_screenshot(attempts) if status not in (AdhesionStatus.ENROLLED, AdhesionStatus.VERIFIED) else None
    running = bool(runner and runner.running(unit.id or 0))
    return AdhesionView(status=status.value, next_actor=NEXT_ACTOR[status], message=unit.adhesion_message,
                        message_pt=portuguese_message(unit.adhesion_message),
                        step=last.step_reached if last else None, attempt_id=last.id if last else None,
                        screenshot_attempt_id=shot, running=running, final=status in FINAL and not running)


_PT_PREFIXES = ("Adesão", "Primeira fatura", "Falha")


def portuguese_message(message: str | None) -> str | None:
    """The part of a stored adhesion message an integrator reads (pt-BR); the English log part is dropped.

    The bot stores "<English reason> — <pt-BR user message>"; the dashboard's own messages are pt-BR.
    """
    if not message:
        return None
    if " — " in message:
        return message.rsplit(" — ", 1)[1]
    return message if message.startswith(_PT_PREFIXES) else None


def _last_screenshot(attempts: list[AdhesionAttempt]) -> int | None:
    for attempt in attempts[:1]:
        if any(a.get("kind") == "screenshot" for a in attempt.artifacts):
            return attempt.id
    return None


def screenshot_blob(*, session: Session, unit: Unit, attempt_id: int) -> str | None:
    """The blob of an attempt's screenshot, only if the attempt belongs to `unit` (ownership checked by caller)."""
    attempt = session.get(AdhesionAttempt, attempt_id)
    if attempt is None or attempt.unit_id != unit.id:
        return None
    return next((a["blob"] for a in attempt.artifacts if a.get("kind") == "screenshot"), None)
