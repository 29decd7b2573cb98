"""Bill errors raised by the parse stage.

    BillError                 a bill could not be turned into the bill schema
    ├── BillUnreadable        the PDF has no usable text (corrupt, still locked, image only)
    │   └── NoTextLayer       the PDF opens but no page carries text: a scan or a photo, for OCR
    └── BillUnparseable       the text is not a bill this parser knows
        └── BillLayoutUnsupported   a known utility's layout that has no parser yet

Each error has an English message (logs, developers) and a pt-BR ``user_message`` (the dashboard), from
the project's root error, `storage.errors.FaturasError`.
"""

from __future__ import annotations

from storage.errors import FaturasError


class BillError(FaturasError):
    """A bill could not be read into the bill schema."""

    user_message = "Não foi possível ler a fatura."


class BillUnreadable(BillError):
    """The PDF could not be opened or has no text layer to read."""

    user_message = "O PDF da fatura não pôde ser lido (arquivo corrompido, protegido ou sem texto)."


class NoTextLayer(BillUnreadable):
    """The PDF opens but no page carries any text: an image-only scan or photo (read by OCR instead)."""


class BillUnparseable(BillError):
    """The text does not look like a bill this parser understands."""

    user_message = "A fatura não pôde ser interpretada automaticamente; confira-a manualmente."


class BillLayoutUnsupported(BillUnparseable):
    """The bill is from a known utility but in a layout that no parser handles yet."""

    user_message = "Este modelo de fatura ainda não é suportado; confira-a manualmente."
