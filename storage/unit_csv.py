"""Bulk import and export of units as CSV, in batches, with a per-row report of rejected rows.

Format (header row required; column order free; `;` or `,` separated; UTF-8 or Windows-1252):
installation, uc_code, client_name, holder_document, portal_login, portal_password, forward_to
(addresses separated by `;` or spaces inside the cell), email_bills_enabled (sim/não, true/false, 1/0),
pdf_password. Export adds the read-only columns id, inbox_address and adhesion_status, which import
ignores, and never writes a password.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from storage.engine import session_scope
from storage.errors import DuplicateUnit, FaturasError, UnitInputError
from storage.models import Unit, UnitCreate
from storage.secrets import KeyRing
from storage.units import InboxPolicy, create_unit

INPUT_COLUMNS = ("installation", "uc_code", "client_name", "holder_document", "portal_login",
                 "portal_password", "forward_to", "email_bills_enabled", "pdf_password")
EXPORT_ONLY_COLUMNS = ("id", "inbox_address", "adhesion_status")
EXPORT_COLUMNS = ("id", *INPUT_COLUMNS, "inbox_address", "adhesion_status")
_TRUE = {"1", "true", "sim", "s", "yes", "y", "on", "ativo"}
_FALSE = {"0", "false", "não", "nao", "n", "no", "off", "inativo"}


class CsvFormatError(FaturasError):
    """The file as a whole cannot be read as a units CSV (encoding, header)."""

    user_message = "O arquivo CSV não está no formato esperado."


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: its line in the file (the header is line 1), column and reason."""

    line: int
    column: str
    reason: str


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Data rows read."""
        return self.created + len(self.rejected)


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvFormatError("the CSV is neither UTF-8 nor Windows-1252 text")


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and (line number, row) pairs; unknown columns or a missing header are file errors."""
    text = _decode(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise CsvFormatError(f"{path} is empty: the first line must name the columns")
    unknown = [name for name in header if name not in INPUT_COLUMNS and name not in EXPORT_ONLY_COLUMNS]
    if unknown:
        raise CsvFormatError(f"{path}: unknown column(s) {', '.join(unknown)}; expected {', '.join(INPUT_COLUMNS)}")
    missing = [name for name in ("client_name", "holder_document") if name not in header]
    if missing or ("installation" not in header and "uc_code" not in header):
        raise CsvFormatError(f"{path}: missing column(s) {', '.join(missing or ['installation'])}")
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for row in reader:
            values = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if any(values.values()):
                yield reader.line_num, values

    return header, rows()


def parse_bool(value: str, *, column: str) -> bool | None:
    """Sim/não, true/false, 1/0; empty means "not given"."""
    lowered = value.strip().lower()
    if not lowered:
        return None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise UnitInputError(column, f"{value!r} is not yes/no (use sim/não, true/false or 1/0)")


def row_to_unit(row: dict[str, str]) -> UnitCreate:
    """Validate one row into a UnitCreate; UnitInputError names the column at fault."""
    data: dict[str, object] = {k: v for k, v in row.items() if k in INPUT_COLUMNS and v != ""}
    if "email_bills_enabled" in data:
        data["email_bills_enabled"] = parse_bool(str(data["email_bills_enabled"]), column="email_bills_enabled")
    try:
        return UnitCreate(**data)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        column = str(error["loc"][0]) if error["loc"] else "row"
        raise UnitInputError(column, "is required" if error["type"] == "missing" else error["msg"]) from exc


def import_units(*, engine: Engine, path: Path, keys: KeyRing | None, inbox: InboxPolicy, batch_size: int = 500,
                 on_progress: Callable[[int], None] | None = None, integrator_id: int | None = None) -> ImportReport:
    """Import every good row, in transactions of `batch_size` rows; bad rows are reported, not fatal."""
    _, rows = read_rows(path)
    report = ImportReport()
    batch: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}

    def flush() -> None:
        with session_scope(engine) as session:
            for line, row in batch:
                try:
                    unit_in = row_to_unit(row)
                    code = unit_in.installation or unit_in.uc_code or ""
                    if code in seen:
                        raise UnitInputError("installation", f"repeats line {seen[code]} of this file")
                    with session.begin_nested():
                        create_unit(session=session, unit_in=unit_in, keys=keys, inbox=inbox,
                                    integrator_id=integrator_id)
                    seen[code] = line
                    report.created += 1
                except UnitInputError as exc:
                    report.rejected.append(RejectedRow(line, exc.field, exc.reason))
                except IntegrityError:
                    report.rejected.append(RejectedRow(line, "installation", "already registered"))
                except DuplicateUnit as exc:
                    report.rejected.append(RejectedRow(line, "installation", str(exc)))
        if on_progress:
            on_progress(len(batch))
        batch.clear()

    for line, row in rows:
        batch.append((line, row))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return report


def export_units(units: list[Unit], out: io.TextIOBase) -> int:
    """Write units as CSV (secrets left out); returns the number of rows written."""
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for unit in units:
        writer.writerow({
            "id": unit.id, "installation": unit.installation or "", "uc_code": unit.uc_code or "",
            "client_name": unit.client_name, "holder_document": unit.holder_document,
            "portal_login": unit.portal_login or "", "portal_password": "", "pdf_password": "",
            "forward_to": ";".join(unit.forward_to),
            "email_bills_enabled": "sim" if unit.email_bills_enabled else "não",
            "inbox_address": unit.inbox_address, "adhesion_status": unit.adhesion_status,
        })
    return len(units)
