"""The mail pipeline, composed: one pass (`poll_once`) over every account, then the outbox.

fetch → claim → route → authenticate → extract → unlock → parse → store → forward → settle.

Each stage lives in its own module; this one only wires them together and records outcomes. Per message,
the claim is committed first; the bill(s), the message's outcome and the outbox rows are then committed
in ONE transaction, so a crash leaves either nothing (the claim is resumed next pass) or everything.
Each inbox is worked in shards (UID modulo `settings.shards`), one lease per shard, so several workers
share a mailbox without ever holding the same message. One bad message is recorded and the pass goes
on; an unexpected error leaves the claim to be retried, up to `max_message_attempts` times (a message
that crashes the worker every time must not stop the mailbox forever), then it is recorded unreadable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from processor.authenticate import DnsTxtLookup, authenticate
from processor.bill import read_bill
from processor.claim import claim, header_values, parse_message, read_headers
from processor.config import MailAccount, MailSettings
from processor.errors import BillRejected, MailboxBusy, MailboxUnavailable, UnregisteredInstallation
from processor.extract import extract_pdfs
from processor.fetch import ensure_folders, fetch_messages, folder_state, open_mailbox
from processor.forward import queue_forwards
from processor.isolate import read_isolated
from processor.login_route import unit_for_bill
from processor.outbox import OutboxReport, send_outbox
from processor.payee import user_message as payee_message
from processor.route import route as route_message
from processor.settle import settle
from processor.store import store_bill
from processor.types import (
    DkimResult,
    FetchedMessage,
    Headers,
    Mailbox,
    ReadBill,
    Route,
    Shard,
    mailbox_lease,
    shards_from,
)
from processor.unlock import rule_candidates, unlock
from storage.blobs import Blobs
from storage.engine import session_scope
from storage.errors import FaturasError
from storage.login_models import PortalLogin
from storage.logins import routing_table
from storage.mail import acquire_lease, known_uids, new_owner, release_lease, shards_ready_to_settle, unfinished
from storage.mail_models import MailMessage, MessageStage
from storage.models import Unit, utcnow
from storage.secrets import KeyRing
from storage.senders import trusted_domains
from storage.units import pdf_password

log = structlog.get_logger(__name__)
UNREADABLE_MESSAGE = ("O e-mail não pôde ser lido depois de várias tentativas e foi movido para a Quarentena; "
                      "confira-o na caixa de e-mail e, se for uma fatura, envie o PDF manualmente.")


@dataclass(frozen=True)
class Pipeline:
    """What a pass needs, passed in: database, settings, blob store, keys and the injectable seams."""

    engine: Engine
    settings: MailSettings
    blobs: Blobs
    keys: KeyRing | None = None
    dns_txt: DnsTxtLookup | None = None
    dkim_key: bytes | None = field(default=None, repr=False)
    owner: str = field(default_factory=new_owner)
    on_secret: Callable[[str], None] | None = None
    now: Callable[[], datetime] = utcnow
    should_stop: Callable[[], bool] = lambda: False  # noqa: E731 - the service's stop flag (SIGTERM)


@dataclass(frozen=True)
class AccountReport:
    """One account's part of a pass."""

    account: str
    outcomes: dict[str, int] = field(default_factory=dict)
    settled: dict[str, int] = field(default_factory=dict)
    forwarded: int = 0
    error: str | None = None
    busy: bool = False


@dataclass(frozen=True)
class PassReport:
    """A whole pass: each account, then the outbox."""

    accounts: tuple[AccountReport, ...]
    outbox: OutboxReport

    @property
    def forwarded(self) -> int:
        """Forwards sent during the pass."""
        return self.outbox.sent + sum(a.forwarded for a in self.accounts)

    @property
    def outcomes(self) -> dict[str, int]:
        """Messages per outcome over every account."""
        return _merge(a.outcomes for a in self.accounts)


def poll_once(pipeline: Pipeline) -> PassReport:
    """One pass over every configured account, then the outbox, then what became settleable meanwhile.

    Never raises for one account's trouble.
    """
    reports = tuple(poll_account(pipeline, account) for account in pipeline.settings.accounts)
    outbox = send_outbox(engine=pipeline.engine, settings=pipeline.settings, blobs=pipeline.blobs,
                         owner=pipeline.owner, now=pipeline.now, dkim_key=pipeline.dkim_key)
    if not pipeline.should_stop():
        reports = tuple(replace(report, settled=_merge((report.settled, settle_ready(pipeline, account))))
                        for report, account in zip(reports, pipeline.settings.accounts, strict=True))
    report = PassReport(accounts=reports, outbox=outbox)
    log.info("mail_pass_finished", accounts=len(reports), forwarded=report.forwarded, retried=outbox.retried,
             parked=outbox.parked, outcomes=report.outcomes, errors=[r.account for r in reports if r.error])
    return report


def _merge(dicts) -> dict[str, int]:  # noqa: ANN001 - iterable of dicts
    total: dict[str, int] = {}
    for d in dicts:
        for key, value in d.items():
            total[key] = total.get(key, 0) + value
    return total


def poll_account(pipeline: Pipeline, account: MailAccount) -> AccountReport:
    """Process one account's inbox, shard by shard, each under its own lease; never raises.

    Workers start at different shards (by owner id) and take whichever shard is free, so N workers share
    one mailbox N ways while a lone worker still does every shard in turn.
    """
    reports: list[AccountReport] = []
    for shard in shards_from(pipeline.owner, pipeline.settings.shards):
        if pipeline.should_stop():
            break
        reports.append(_poll_shard(pipeline, account, shard))
    return AccountReport(
        account=account.name, outcomes=_merge(r.outcomes for r in reports),
        settled=_merge(r.settled for r in reports), forwarded=sum(r.forwarded for r in reports),
        error=next((r.error for r in reports if r.error), None),
        busy=bool(reports) and all(r.busy for r in reports))


def settle_ready(pipeline: Pipeline, account: MailAccount) -> dict[str, int]:
    """Settle the messages a shard's pass had to leave in the inbox, now that their forwards are final.

    A shard settles at the end of its own pass; a forward another worker was still sending then kept its
    message in the inbox until the shard's next pass, which (with IDLE) may be the next bill's arrival.
    Only shards with such a message are opened, each under its lease (a shard leased elsewhere is skipped).
    """
    count = pipeline.settings.shards
    try:
        with session_scope(pipeline.engine) as session:
            ready = shards_ready_to_settle(session=session, account=account.name, folder=account.inbox,
                                           shard_count=count)
    except Exception as exc:  # noqa: BLE001 - the next pass settles them anyway; a pass never raises
        log.warning("settle_ready_failed", account=account.name, error=type(exc).__name__)
        return {}
    reports = [_poll_shard(pipeline, account, Shard(index=index, count=count), work=_settle_shard)
               for index in sorted(ready)]
    return _merge(r.settled for r in reports)


def _settle_shard(pipeline: Pipeline, account: MailAccount, lease: str, shard: Shard) -> AccountReport:  # noqa: ARG001
    with open_mailbox(account) as box:
        uidvalidity, uids = folder_state(box, account.inbox)
        settled = settle(box=box, engine=pipeline.engine, account=account, shard=shard,
                         mailbox=Mailbox(account=account.name, folder=account.inbox, uidvalidity=uidvalidity),
                         present=[uid for uid in uids if shard.owns(uid)])
    return AccountReport(account=account.name, settled=settled)


def _poll_shard(pipeline: Pipeline, account: MailAccount, shard: Shard,
                work: Callable[[Pipeline, MailAccount, str, Shard], AccountReport] | None = None) -> AccountReport:
    """One shard of an inbox under its lease: `work` (a whole pass by default); counts, or the error that stopped it."""
    lease = mailbox_lease(account, shard)
    structlog.contextvars.bind_contextvars(account=account.name, shard=shard.label)
    try:
        with session_scope(pipeline.engine) as session:
            if not acquire_lease(session=session, name=lease, owner=pipeline.owner,
                                 seconds=pipeline.settings.lease_seconds):
                log.info("mailbox_busy", lease=lease)
                return AccountReport(account=account.name, busy=True)
        try:
            return (work or _work_account)(pipeline, account, lease, shard)
        finally:
            with session_scope(pipeline.engine) as session:
                release_lease(session=session, name=lease, owner=pipeline.owner)
    except (MailboxUnavailable, MailboxBusy) as exc:
        log.warning("mailbox_failed", error=str(exc))
        return AccountReport(account=account.name, error=str(exc), busy=isinstance(exc, MailboxBusy))
    except Exception as exc:  # noqa: BLE001 - one account's failure (a bug, the database) never stops the others
        log.exception("mailbox_failed", error=type(exc).__name__)
        return AccountReport(account=account.name, error=f"{type(exc).__name__}: {exc}"[:500])
    finally:
        structlog.contextvars.unbind_contextvars("account", "shard")


@dataclass
class _Units:
    """The unit table as seen by one shard's pass: every inbox address, each unit read once when needed.

    Routing and the read-only stages use these copies; storing re-reads (and locks) the unit's row.
    """

    engine: Engine
    by_address: dict[str, int]
    logins: dict[str, int] = field(default_factory=dict)
    """Addresses of portal logins: their bills are routed by the installation printed (processor.login_route)."""
    trusted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Signing domains operators trusted per utility (storage.senders), read once per shard pass."""
    _seen: dict[int, Unit] = field(default_factory=dict)
    _login_units: dict[int, tuple[str, list[Unit]]] = field(default_factory=dict)

    @classmethod
    def load(cls, engine: Engine) -> _Units:
        with session_scope(engine) as session:
            table = routing_table(session=session)
            return cls(engine=engine, by_address=table.units, logins=table.logins,
                       trusted=trusted_domains(session=session))

    def sending_domains(self, settings: MailSettings, utility: str) -> tuple[str, ...]:
        """The settings' domains of the utility, then the ones operators trusted."""
        return (*settings.sending_domains.get(utility, ()), *self.trusted.get(utility, ()))

    def of_login(self, login_id: int) -> tuple[str, list[Unit]]:
        """The login's utility and units, read once per pass (a unit registered later waits for the next pass)."""
        if login_id not in self._login_units:
            with session_scope(self.engine) as session:
                login = session.get(PortalLogin, login_id)
                if login is None:
                    raise LookupError(f"portal login {login_id} was removed while its bill was being read")
                members = list(session.exec(select(Unit).where(Unit.portal_login_id == login_id)
                                            .order_by(Unit.id)))  # type: ignore[arg-type]
            self._login_units[login_id] = (login.utility, members)
        return self._login_units[login_id]

    def get(self, unit_id: int) -> Unit:
        """The unit's copy. The first miss reads every unit in one query, not one query (and commit) per bill."""
        if unit_id not in self._seen:
            with session_scope(self.engine) as session:
                self._seen.update((unit.id, unit) for unit in session.exec(select(Unit)))  # type: ignore[misc]
            if unit_id not in self._seen:
                raise LookupError(f"unit {unit_id} was removed while its bill was being read")
        return self._seen[unit_id]


def _work_account(pipeline: Pipeline, account: MailAccount, lease: str, shard: Shard) -> AccountReport:
    outcomes: dict[str, int] = {}
    with open_mailbox(account) as box:
        ensure_folders(box, account)
        uidvalidity, every_uid = folder_state(box, account.inbox)
        uids = [uid for uid in every_uid if shard.owns(uid)]
        mailbox = Mailbox(account=account.name, folder=account.inbox, uidvalidity=uidvalidity)
        with session_scope(pipeline.engine) as session:
            known = known_uids(session=session, account=account.name, folder=account.inbox, uidvalidity=uidvalidity)
            resume = {m.uid: m.id for m in unfinished(session=session, account=account.name,
                                                        folder=account.inbox, uidvalidity=uidvalidity)
                      if shard.owns(m.uid)}
        if not known:
            _note_uidvalidity(pipeline.engine, account, uidvalidity)
        present = set(uids)
        todo = [uid for uid in uids if uid not in known or uid in resume]
        log.info("mailbox_listed", uidvalidity=uidvalidity, messages=len(uids), new=len(todo) - len(resume),
                 resumed=len([u for u in resume if u in present]))
        units = _Units.load(pipeline.engine)
        batch = pipeline.settings.fetch_batch
        for start in range(0, len(todo), batch):
            if pipeline.should_stop():
                log.info("mailbox_pass_interrupted", left=len(todo) - start)
                break
            with session_scope(pipeline.engine) as session:
                if not acquire_lease(session=session, name=lease, owner=pipeline.owner,
                                     seconds=pipeline.settings.lease_seconds):
                    raise MailboxBusy(f"lost the lease on {lease} to another worker")
            for fetched in fetch_messages(box, todo[start:start + batch], batch=batch):
                stage = _handle(pipeline, mailbox, fetched, resume.get(fetched.uid), units)
                if stage is not None:
                    outcomes[stage] = outcomes.get(stage, 0) + 1
                if pipeline.should_stop():
                    break  # the message in hand is finished; the rest waits for the next pass
        outbox = send_outbox(engine=pipeline.engine, settings=pipeline.settings, blobs=pipeline.blobs,
                             owner=pipeline.owner, now=pipeline.now, dkim_key=pipeline.dkim_key)
        settled = settle(box=box, engine=pipeline.engine, account=account, mailbox=mailbox, present=present,
                         shard=shard)
    return AccountReport(account=account.name, outcomes=outcomes, settled=settled, forwarded=outbox.sent)


def _note_uidvalidity(engine: Engine, account: MailAccount, uidvalidity: int) -> None:
    """A new UIDVALIDITY: old UIDs mean nothing now; close the old rows so they do not wait forever."""
    with session_scope(engine) as session:
        stale = list(session.exec(select(MailMessage).where(
            MailMessage.account == account.name, MailMessage.folder == account.inbox,
            MailMessage.uidvalidity != uidvalidity, MailMessage.settled_at.is_(None))))  # type: ignore[union-attr]
        for row in stale:
            row.settled_at = row.updated_at = utcnow()
            row.error = ((row.error + "; ") if row.error else "") + "UIDVALIDITY changed before it was settled"
            session.add(row)
        if stale:
            log.warning("uidvalidity_changed", uidvalidity=uidvalidity, stale_messages=len(stale))


def _handle(pipeline: Pipeline, mailbox: Mailbox, fetched: FetchedMessage, resumed_id: int | None,
            units: _Units) -> str | None:
    """Claim (or resume) one message by UID, then read and process it under the guard; returns its outcome.

    Nothing is parsed before the claim: a message the `email` package cannot read (a broken RFC 2047
    word, MIME nested thousands deep) still has its row, fails inside the guard, and after
    `max_message_attempts` passes ends `unreadable` and goes to Quarantine; the shard goes on.
    """
    row_id = resumed_id or claim(engine=pipeline.engine, mailbox=mailbox, fetched=fetched)
    if row_id is None:
        return None
    headers: Headers | None = None
    with structlog.contextvars.bound_contextvars(uid=fetched.uid, mail_message_id=row_id):
        try:
            if resumed_id is not None and _give_up(pipeline.engine, row_id, pipeline.settings.max_message_attempts):
                return MessageStage.UNREADABLE.value
            message = parse_message(fetched.raw)
            headers = read_headers(message)  # written with the outcome or the failure: no commit of their own
            return _process(pipeline, row_id, fetched, message, units, headers)
        except Exception as exc:  # noqa: BLE001 - one bad message never stops the pass; it is retried
            # a RecursionError traceback is thousands of frames: the error name is enough evidence
            log.error("message_failed", error=type(exc).__name__, exc_info=not isinstance(exc, RecursionError))
            _note_failure(pipeline.engine, row_id, exc, headers)
            return None


def _note_failure(engine: Engine, row_id: int, exc: Exception, headers: Headers | None) -> None:
    """Record why a claimed message failed, and its headers when they were read; it is retried next pass."""
    with session_scope(engine) as session:
        row = session.get(MailMessage, row_id)
        if row is not None:
            row.error = f"{type(exc).__name__}: {exc}"[:2000]
            row.updated_at = utcnow()
            for name, value in (header_values(headers) if headers is not None else {}).items():
                setattr(row, name, value)
            session.add(row)


def _give_up(engine: Engine, row_id: int, max_attempts: int) -> bool:
    with session_scope(engine) as session:
        row = session.get(MailMessage, row_id)
        if row is None:
            return True
        row.attempts += 1
        row.updated_at = utcnow()
        if row.attempts > max_attempts:
            row.stage = MessageStage.UNREADABLE.value
            row.error = f"processing failed {max_attempts} times; last error: {row.error or 'a crash'}"[:2000]
            row.user_message = UNREADABLE_MESSAGE
            log.error("message_abandoned", attempts=row.attempts)
        session.add(row)
        return row.stage != MessageStage.CLAIMED.value


def _passwords(pipeline: Pipeline, unit: Unit) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if unit.pdf_password_enc:
        if pipeline.keys is None:
            log.warning("pdf_password_unavailable", unit_id=unit.id, reason="no encryption key configured")
        else:
            try:
                secret = pdf_password(unit=unit, keys=pipeline.keys)
            except FaturasError as exc:
                log.warning("pdf_password_unavailable", unit_id=unit.id, reason=str(exc))
                secret = None
            if secret:
                out.append(("unit", secret))
    rules = pipeline.settings.pdf_password_rules.get(unit.utility, ())
    out.extend(("rule", candidate) for candidate in rule_candidates(
        rules, document=unit.holder_document, installation=unit.installation, uc_code=unit.uc_code))
    if pipeline.on_secret is not None:
        for _, secret in out:
            pipeline.on_secret(secret)
    return out


def read_pdfs(pipeline: Pipeline, unit: Unit, parts, *,  # noqa: ANN001
              authentic: bool = False) -> tuple[list[ReadBill], list[BillRejected]]:
    """Unlock and parse each PDF (in a limited child process, see processor.isolate); failures are collected.

    `authentic` (DKIM passed) with `mail.forward_unparsed` lets a bill no layout parser accepts through the
    generic extractor instead of failing.
    """
    codes = tuple(c for c in (unit.installation, unit.uc_code) if c)
    options = {"uc_code_known": unit.uc_code is not None,
               "unparsed_fallback": authentic and pipeline.settings.forward_unparsed}
    return _read_parts(pipeline, parts, passwords=_passwords(pipeline, unit), utility=unit.utility,
                       codes=codes, options=options)


def read_login_pdfs(pipeline: Pipeline, utility: str, units: list[Unit], parts, *,  # noqa: ANN001
                    authentic: bool = False) -> tuple[list[ReadBill], list[BillRejected]]:
    """Read the PDFs of a message at a portal login's inbox: every unit's password candidates, no unit check.

    Which unit a bill is of is decided afterwards from what it prints (processor.login_route).
    """
    passwords: list[tuple[str, str]] = []
    for unit in units:
        passwords.extend(p for p in _passwords(pipeline, unit) if p not in passwords)
    options = {"uc_code_known": True, "unparsed_fallback": authentic and pipeline.settings.forward_unparsed}
    return _read_parts(pipeline, parts, passwords=passwords, utility=utility, codes=(), options=options)


def _read_parts(pipeline: Pipeline, parts, *, passwords: list[tuple[str, str]], utility: str,  # noqa: ANN001
                codes: tuple[str, ...], options: dict) -> tuple[list[ReadBill], list[BillRejected]]:
    bills: list[ReadBill] = []
    failures: list[BillRejected] = []
    limit = pipeline.settings.pdf_memory_limit_mb * 2**20
    for part in parts:
        try:
            if limit:
                read = read_isolated(part, passwords=passwords, utility=utility, installations=codes,
                                     limit_bytes=limit, timeout_s=pipeline.settings.pdf_timeout_s, options=options)
            else:
                read = read_bill(unlock(part, passwords=passwords), utility=utility, installations=codes,
                                 **options)
            if "layout_unknown" in read.review_reasons:
                log.info("bill_read_generically", fields=sorted(read.bill.sources), forwardable=read.unparsed)
            elif read.bill.layout == "ocr":
                log.info("bill_read_by_ocr", confidence=read.bill.confidence, needs_review=read.needs_review)
            bills.append(read)
        except BillRejected as exc:
            failures.append(exc)
    return bills, failures


def _process(pipeline: Pipeline, row_id: int, fetched: FetchedMessage, message, units: _Units,  # noqa: ANN001
             headers: Headers) -> str:
    route: Route | None = None
    dkim_result: DkimResult | None = None
    try:
        route = route_message(message, units_by_address=units.by_address, logins_by_address=units.logins)
        if route.login_id is None:
            unit: Unit | None = units.get(route.unit_id)  # type: ignore[arg-type]
            utility, members = unit.utility, [unit]  # type: ignore[union-attr]
        else:
            unit = None
            utility, members = units.of_login(route.login_id)
        domains = units.sending_domains(pipeline.settings, utility)
        try:
            dkim_result = authenticate(fetched.raw, domains=domains, policy=pipeline.settings.dkim_policy,
                                       dns_txt=pipeline.dns_txt)
        except BillRejected as exc:
            dkim_result = getattr(exc, "dkim", None)
            raise
        parts = extract_pdfs(message, max_bytes=pipeline.settings.max_attachment_bytes)
        authentic = dkim_result.status == "pass"
        if unit is not None:
            bills, failures = read_pdfs(pipeline, unit, parts, authentic=authentic)
            owners = [unit.id for _ in bills]
        else:
            bills, failures = read_login_pdfs(pipeline, utility, members, parts, authentic=authentic)
            bills, owners = _assign(bills, members, route.login_id)  # type: ignore[arg-type]
        if not bills:
            raise failures[0]
    except BillRejected as exc:
        _record(pipeline.engine, row_id, stage=exc.stage.value, error=str(exc), user_message=exc.user_message,
                route=route, dkim=dkim_result, extra={**header_values(headers), **(_waiting_fields(exc) or {})})
        log.info("message_rejected", stage=exc.stage.value, reason=str(exc))
        return exc.stage.value
    route = replace(route, unit_id=owners[0])
    with session_scope(pipeline.engine) as session:
        # Each unit's row is locked for the transaction (PostgreSQL), in id order: two workers storing bills
        # of one unit take turns, so the second sees the first's invoice and records a duplicate.
        locked: dict[int, Unit] = {}
        for unit_id in sorted(set(owners)):
            row = session.get(Unit, unit_id, with_for_update=True)
            if row is None:  # removed during the pass: the claim is retried and ends unroutable
                raise LookupError(f"unit {unit_id} was removed while its bill was being read")
            locked[unit_id] = row
        results = [store_bill(session=session, blobs=pipeline.blobs, unit=locked[owner], read=bill, source="email",
                              mail_message_id=row_id) for bill, owner in zip(bills, owners, strict=True)]
        for bill, owner, result in zip(bills, owners, results, strict=True):
            if result.outcome != "duplicate" and not bill.payee_mismatch:
                invoice = result.invoice
                assert invoice is not None  # noqa: S101 - store_bill returns the row it stored
                queue_forwards(session=session, invoice=invoice, unit=locked[owner], settings=pipeline.settings,
                               unparsed=bill.unparsed)
        stage, error = _verdict(results, failures, bills)
        user_message = None
        if stage == MessageStage.PAYEE_MISMATCH.value:
            found = [f for b in bills for f in b.payee_mismatch]
            user_message = payee_message(utility, found)
            log.warning("bill_payee_mismatch", unit_id=route.unit_id, found=found, dkim=dkim_result.status)
        _write_outcome(session, row_id, stage=stage, error=error, user_message=user_message, route=route,
                       dkim=dkim_result, extra=header_values(headers))
    log.info("message_processed", stage=stage, unit_id=route.unit_id, portal_login_id=route.login_id,
             bills=len(results))
    return stage


def _assign(bills: list[ReadBill], members: list[Unit], login_id: int) -> tuple[list[ReadBill], list[int]]:
    """Each bill of a login's message with the unit it prints; raises UnregisteredInstallation or Unroutable."""
    owners: list[int] = []
    out: list[ReadBill] = []
    for read in bills:
        unit, learn = unit_for_bill(read.bill, units=members, login_id=login_id)
        out.append(replace(read, uc_code_to_learn=learn) if learn else read)
        owners.append(unit.id)  # type: ignore[arg-type]
    return out, owners


def _waiting_fields(exc: BillRejected) -> dict[str, object] | None:
    """What a message waiting for its installation keeps: the login and what the bill printed."""
    if not isinstance(exc, UnregisteredInstallation):
        return None
    return {"portal_login_id": exc.portal_login_id, "bill_installation": (exc.installation or None),
            "bill_uc_code": exc.uc_code, "bill_holder_name": (exc.holder_name or "")[:200] or None}


def _verdict(results, failures: list[BillRejected], bills: list[ReadBill]) -> tuple[str, str | None]:  # noqa: ANN001
    """The message's outcome from its bills' outcomes."""
    notes = [f"{type(f).__name__}: {f}" for f in failures]
    for bill, result in zip(bills, results, strict=True):
        if result.status == "needs_review" and result.outcome != "duplicate":
            notes.append(f"{bill.bill.reference_month} needs review: {', '.join(result.review_reasons)}")
        if result.outcome == "reissue":
            notes.append(f"{bill.bill.reference_month} re-issued: stored as a new version")
    mismatched = [f"{b.bill.reference_month}: {'; '.join(b.payee_mismatch)}" for b in bills if b.payee_mismatch]
    if mismatched:  # whatever else happened, the message is a bill paying someone else: never forwarded
        return MessageStage.PAYEE_MISMATCH.value, ("payment data names another payee: "
                                                   + " | ".join(mismatched) + ("; " if notes else "")
                                                   + "; ".join(notes))[:2000]
    if all(r.outcome == "duplicate" for r in results) and not failures:
        return MessageStage.DUPLICATE.value, f"already stored as invoice {results[0].invoice_id}"
    fresh = [r for r in results if r.outcome != "duplicate"]
    if failures or any(r.status == "needs_review" for r in fresh):
        return MessageStage.NEEDS_REVIEW.value, "; ".join(notes)[:2000] or None
    return MessageStage.PARSED.value, "; ".join(notes)[:2000] or None


def _write_outcome(session: Session, row_id: int, *, stage: str, error: str | None, user_message: str | None,
                   route: Route | None, dkim: DkimResult | None, extra: dict[str, object] | None = None) -> None:
    """Record a message's outcome in one UPDATE (no read first: this runs once per message)."""
    values: dict[str, object] = {"stage": stage, "error": error, "user_message": user_message,
                                 "updated_at": utcnow(), **(extra or {})}
    if route is not None:
        values.update(unit_id=route.unit_id, recipient=route.address)
        if route.login_id is not None:
            values["portal_login_id"] = route.login_id
    if dkim is not None:
        values["dkim"] = dkim.status
        if dkim.signers:
            values["dkim_domains"] = ",".join(dkim.signers)[:1000]
    session.execute(update(MailMessage).where(MailMessage.id == row_id).values(**values)  # type: ignore[arg-type]
                    .execution_options(synchronize_session=False))


def _record(engine: Engine, row_id: int, **values) -> None:  # noqa: ANN003
    with session_scope(engine) as session:
        _write_outcome(session, row_id, **values)
