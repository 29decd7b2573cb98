"""Bulk import and export of units as CSV, in batches, with a per-row report of rejected rows.

Format (header row required, each column once; column order free; `;`, `,` or tab separated; UTF-8,
Windows-1252 or UTF-16 with its BOM, not a mix; at most MAX_CSV_BYTES, each field at most 128 KiB):
installation, uc_code, client_name, holder_document, portal_login, portal_password, forward_to
(addresses separated by `;` or spaces inside the cell), email_bills_enabled (sim/não, true/false, 1/0),
pdf_password. Export adds the read-only columns id, inbox_address and adhesion_status, which import
ignores, and never writes a password. Export neutralises cells a spreadsheet would run as a formula (a
leading `=`, `+`, `-`, `@`, tab or CR gets a `'` in front, as OWASP describes); import keeps that `'`
as data, so a round trip never turns text back into a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from storage.engine import savepoint, session_scope
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
MAX_CSV_BYTES = 5 * 1024 * 1024
"""The largest units file accepted (CLI and dashboard): ~40,000 units."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


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
    """UTF-16 (with its BOM), UTF-8 or Windows-1252; a file mixing UTF-8 and another encoding is refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CsvFormatError("the CSV starts as UTF-16 but is not valid UTF-16 text",
                                 user_message="O arquivo começa como UTF-16 mas não é texto UTF-16 válido.") from exc
    if b"\x00" in raw[:200] and raw[:200].count(b"\x00") * 3 > len(raw[:200]):
        raise CsvFormatError("the CSV looks like UTF-16 without a byte-order mark: save it as UTF-8 "
                             "(or as UTF-16 with its BOM)",
                             user_message="O arquivo parece UTF-16 sem marca de ordem de bytes: salve-o como UTF-8.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if _UTF8_SEQUENCE.search(raw):
            line = raw[:exc.start].count(b"\n") + 1
            raise CsvFormatError(f"the CSV mixes encodings: UTF-8 text, but line {line} is not UTF-8 "
                                 "(Windows-1252?); save the whole file as UTF-8",
                                 user_message=f"O arquivo mistura codificações (a linha {line} não é UTF-8): "
                                              "salve o arquivo inteiro como UTF-8.") from exc
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CsvFormatError("the CSV is neither UTF-8, UTF-16 nor Windows-1252 text") from exc


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and (line number, row) pairs; encoding, size, header and quoting problems are file errors.

    Rows are yielded lazily; a field over 128 KiB or a quote that never closes raises CsvFormatError
    naming the line, when that row is reached (`import_units` reads every row before writing any).
    """
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise CsvFormatError(f"{path.name} has {size / 2**20:.1f} MiB; the limit is "
                             f"{MAX_CSV_BYTES // 2**20} MiB: split the file",
                             user_message=f"O arquivo passa do limite de {MAX_CSV_BYTES // 2**20} MiB: divida-o.")
    text = _decode(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise CsvFormatError(f"{path.name}: line 1 cannot be read as CSV ({exc})") from exc
    header = [name.strip().lower() for name in (fieldnames or [])]
    if not header:
        raise CsvFormatError(f"{path} is empty: the first line must name the columns")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CsvFormatError(f"{path.name}: column(s) {', '.join(repeated)} appear more than once in the header",
                             user_message=f"Coluna repetida no cabeçalho: {', '.join(repeated)}.")
    unknown = [name for name in header if name not in INPUT_COLUMNS and name not in EXPORT_ONLY_COLUMNS]
    if unknown:
        raise CsvFormatError(f"{path}: unknown column(s) {', '.join(unknown)}; expected {', '.join(INPUT_COLUMNS)}")
    missing = [name for name in ("client_name", "holder_document") if name not in header]
    if missing or ("installation" not in header and "uc_code" not in header):
        raise CsvFormatError(f"{path}: missing column(s) {', '.join(missing or ['installation'])}")
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CsvFormatError(f"{path.name}: line {start} cannot be read: {_why(exc)}",
                                     user_message=f"A linha {start} do arquivo não pôde ser lida (aspas ou campo "
                                                  "longo demais); corrija-a e importe de novo.") from exc
            if reader.line_num > start and any("\n" in (v or "") or "\r" in (v or "") for v in row.values()
                                               if isinstance(v, str)):
                raise CsvFormatError(f"{path.name}: line {start}: a quote opens a field that runs over lines "
                                     f"{start}-{reader.line_num}; close the quote (no field spans lines)",
                                     user_message=f"Na linha {start}, uma aspa abre um campo que não fecha e "
                                                  f"engole as linhas até a {reader.line_num}; feche a aspa.")
            values = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
            if any(values.values()):
                yield start, values

    return header, rows()


def _why(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {csv.field_size_limit() // 1024} KiB"
    if "unexpected end of data" in text or "EOF" in text:
        return "a quote opens a field that never closes"
    return text


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
    _, lazy_rows = read_rows(path)
    rows = list(lazy_rows)  # a file error anywhere stops the import before anything is written
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
                    with savepoint(session):
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


def neutralise(value: object) -> object:
    """A cell a spreadsheet would run as a formula, prefixed with `'` so it stays text (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_units(units: list[Unit], out: io.TextIOBase) -> int:
    """Write units as CSV (secrets left out, formulas neutralised); returns the number of rows written."""
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for unit in units:
        writer.writerow({key: neutralise(value) for key, value in {
            "id": unit.id, "installation": unit.installation or "", "uc_code": unit.uc_code or "",
            "client_name": unit.client_name, "holder_document": unit.holder_document,
            "portal_login": unit.portal_login or "", "portal_password": "", "pdf_password": "",
            "forward_to": ";".join(unit.forward_to),
            "email_bills_enabled": "sim" if unit.email_bills_enabled else "não",
            "inbox_address": unit.inbox_address, "adhesion_status": unit.adhesion_status,
        }.items()})
    return len(units)
