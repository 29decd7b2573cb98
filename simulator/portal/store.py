"""The simulator's own state: customers, installations, events, sessions and challenge tokens (stdlib sqlite3).

One connection guarded by a re-entrant lock, so uvicorn's worker threads, test threads and the admin API can
share a store. ``Store(":memory:")`` for tests, ``Store("portal.db")`` for a demo that survives restarts.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from simulator.portal.installations import InstallationsMixin
from simulator.portal.models import Customer, StoreError, digits, now_iso

__all__ = ["Customer", "Store", "StoreError"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    document TEXT UNIQUE,
    email TEXT UNIQUE COLLATE NOCASE,
    password_salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    max_failed_logins INTEGER NOT NULL DEFAULT 5,
    scenario TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS installations (
    number TEXT PRIMARY KEY,
    uc_code TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    customer_number TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    holder_document TEXT NOT NULL,
    address TEXT NOT NULL,
    supply_type TEXT NOT NULL,
    tariff_class TEXT NOT NULL,
    tariff_subclass TEXT NOT NULL,
    has_generation INTEGER NOT NULL,
    pdf_password TEXT,
    enrolled INTEGER NOT NULL DEFAULT 0,
    enrolled_at TEXT,
    cancelled_at TEXT,
    adhesion_submissions INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'Ativa'
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    customer_id INTEGER,
    installation TEXT,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    installation TEXT,
    expires_at REAL NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    modal_dismissed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS captcha_tokens (
    token TEXT PRIMARY KEY, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS solver_tasks (
    id TEXT PRIMARY KEY, polls INTEGER NOT NULL DEFAULT 0, token TEXT
);
CREATE TABLE IF NOT EXISTS captcha_images (
    id TEXT PRIMARY KEY, answer TEXT NOT NULL, sha256 TEXT NOT NULL, png BLOB NOT NULL, expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS solver_image_tasks (
    id TEXT PRIMARY KEY, answer TEXT, polls INTEGER NOT NULL DEFAULT 0, reported INTEGER NOT NULL DEFAULT 0
);
"""
TABLES = ("customers", "installations", "events", "settings", "sessions", "captcha_tokens", "solver_tasks",
          "captcha_images", "solver_image_tasks")


def _hash_password(password: str, salt: str) -> str:
    # A simulator still never keeps plain passwords: the report and a dump must not show them.
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000).hex()


class Store(InstallationsMixin):
    """Thread-safe access to the simulator's sqlite database."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        # A demo's portal.db made before a column existed keeps working: add it with its default.
        have = {r["name"] for r in self._conn.execute("PRAGMA table_info(installations)")}
        if "status" not in have:
            self._conn.execute("ALTER TABLE installations ADD COLUMN status TEXT NOT NULL DEFAULT 'Ativa'")

    # -- plumbing ---------------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one sqlite transaction; commit on success, roll back on error."""
        with self._lock:
            if self._depth:  # nested: the outer transaction commits or rolls back
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """Run a read and return every row."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def reset(self) -> None:
        """Forget everything: customers, installations, events, scenarios, sessions and tokens."""
        with self.transaction() as db:
            for table in TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            db.execute("DELETE FROM sqlite_sequence")

    def log_event(self, kind: str, *, customer_id: int | None = None, installation: str | None = None,
                  **detail: Any) -> None:
        """Append one change to the event log."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (at, kind, customer_id, installation, detail) VALUES (?, ?, ?, ?, ?)",
                (now_iso(), kind, customer_id, installation, json.dumps(detail, ensure_ascii=False)),
            )

    def events(self, *, customer_id: int | None = None) -> list[dict[str, Any]]:
        """The event log, oldest first."""
        sql, params = "SELECT * FROM events ORDER BY id", tuple[int, ...]()
        if customer_id is not None:
            sql, params = "SELECT * FROM events WHERE customer_id = ? ORDER BY id", (customer_id,)
        return [
            {"at": r["at"], "kind": r["kind"], "customer_id": r["customer_id"], "installation": r["installation"],
             **json.loads(r["detail"])}
            for r in self.query(sql, params)
        ]

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A JSON value from the settings table."""
        rows = self.query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON value in the settings table (None deletes it)."""
        with self.transaction() as db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def bump_counter(self, key: str) -> int:
        """Increment an integer setting and return its new value."""
        with self.transaction():
            value = int(self.get_setting(key, 0)) + 1
            self.set_setting(key, value)
            return value

    # -- customers --------------------------------------------------------------------------------------------
    def add_customer(self, *, name: str, password: str, document: str | None = None, email: str | None = None,
                     max_failed_logins: int = 5) -> Customer:
        """Create a login identified by a CPF/CNPJ, an e-mail or both."""
        doc = digits(document) if document else None
        if doc is not None and len(doc) not in (11, 14):
            raise StoreError("document must be a CPF (11 digits) or a CNPJ (14 digits)")
        if not doc and not email:
            raise StoreError("a customer needs a document or an e-mail to log in with")
        if max_failed_logins < 1:
            raise StoreError("max_failed_logins must be at least 1")
        salt = secrets.token_hex(8)
        try:
            with self.transaction() as db:
                cur = db.execute(
                    "INSERT INTO customers (name, document, email, password_salt, password_hash, max_failed_logins,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (name, doc, email, salt, _hash_password(password, salt), max_failed_logins, now_iso()),
                )
        except sqlite3.IntegrityError as exc:
            raise StoreError("a customer with this document or e-mail already exists") from exc
        customer_id = int(cur.lastrowid or 0)
        self.log_event("customer_created", customer_id=customer_id, name=name)
        return self.customer(customer_id)

    def customer(self, ref: int | str) -> Customer:
        """A customer by id, document (masked or not) or e-mail; StoreError when unknown."""
        found = self.find_customer(ref)
        if found is None:
            raise StoreError(f"unknown customer: {ref}")
        return found

    def find_customer(self, ref: int | str) -> Customer | None:
        """A customer by id, document (masked or not) or login e-mail, or None."""
        if isinstance(ref, int):
            rows = self.query("SELECT * FROM customers WHERE id = ?", (ref,))
        elif "@" in ref:
            rows = self.query("SELECT * FROM customers WHERE email = ?", (ref.strip(),))
        elif digits(ref) and len(digits(ref)) in (11, 14):
            rows = self.query("SELECT * FROM customers WHERE document = ?", (digits(ref),))
        elif ref.strip().isdigit():
            rows = self.query("SELECT * FROM customers WHERE id = ?", (int(ref),))
        else:
            rows = []
        if not rows:
            return None
        r = rows[0]
        return Customer(r["id"], r["name"], r["document"], r["email"], r["failed_logins"], bool(r["locked"]),
                        r["max_failed_logins"])

    def customers(self) -> list[Customer]:
        """Every customer, in creation order."""
        return [self.customer(r["id"]) for r in self.query("SELECT id FROM customers ORDER BY id")]

    def check_password(self, customer_id: int, password: str) -> bool:
        """Whether the password is right (constant-time comparison)."""
        r = self.query("SELECT password_salt, password_hash FROM customers WHERE id = ?", (customer_id,))[0]
        return secrets.compare_digest(_hash_password(password, r["password_salt"]), r["password_hash"])

    def record_failed_login(self, customer_id: int) -> Customer:
        """Count a wrong password; lock the login when the customer's limit is reached."""
        with self.transaction() as db:
            db.execute("UPDATE customers SET failed_logins = failed_logins + 1 WHERE id = ?", (customer_id,))
            db.execute("UPDATE customers SET locked = 1 WHERE id = ? AND failed_logins >= max_failed_logins",
                       (customer_id,))
        customer = self.customer(customer_id)
        self.log_event("login_failed", customer_id=customer_id, failed_logins=customer.failed_logins)
        if customer.locked:
            self.log_event("account_locked", customer_id=customer_id)
        return customer

    def record_login(self, customer_id: int) -> None:
        """Clear the failure counter after a successful login."""
        with self.transaction() as db:
            db.execute("UPDATE customers SET failed_logins = 0 WHERE id = ?", (customer_id,))
        self.log_event("logged_in", customer_id=customer_id)

    def update_customer(self, customer_id: int, *, password: str | None = None, locked: bool | None = None,
                        max_failed_logins: int | None = None, name: str | None = None) -> Customer:
        """Admin changes: new password, unlock (clears the counter), lockout limit, name."""
        with self.transaction() as db:
            if password is not None:
                salt = secrets.token_hex(8)
                db.execute("UPDATE customers SET password_salt = ?, password_hash = ? WHERE id = ?",
                           (salt, _hash_password(password, salt), customer_id))
            if locked is not None:
                db.execute("UPDATE customers SET locked = ?, failed_logins = 0 WHERE id = ?",
                           (int(locked), customer_id))
            if max_failed_logins is not None:
                db.execute("UPDATE customers SET max_failed_logins = ? WHERE id = ?", (max_failed_logins, customer_id))
            if name is not None:
                db.execute("UPDATE customers SET name = ? WHERE id = ?", (name, customer_id))
        return self.customer(customer_id)

    def change_email(self, customer_id: int, email: str) -> None:
        """Change the access e-mail (also the e-mail the login accepts and where Conta Digital sends bills)."""
        old = self.customer(customer_id).email
        if old is not None and old.lower() == email.lower():
            return
        try:
            with self.transaction() as db:
                db.execute("UPDATE customers SET email = ? WHERE id = ?", (email, customer_id))
        except sqlite3.IntegrityError as exc:
            raise StoreError("e-mail already used by another login") from exc
        self.log_event("email_changed", customer_id=customer_id, old=old, new=email)

    def scenario_json(self, customer_id: int) -> dict | None:
        """The customer's own scenario overrides, as stored."""
        raw = self.query("SELECT scenario FROM customers WHERE id = ?", (customer_id,))[0]["scenario"]
        return json.loads(raw) if raw else None

    def set_scenario_json(self, customer_id: int, scenario: dict | None) -> None:
        """Replace the customer's scenario overrides (None clears them)."""
        with self.transaction() as db:
            db.execute("UPDATE customers SET scenario = ? WHERE id = ?",
                       (json.dumps(scenario) if scenario is not None else None, customer_id))
