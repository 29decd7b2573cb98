"""The mail pipeline's errors, grouped by what the caller must do.

    FaturasError (storage.errors)
    ├── MailboxUnavailable       IMAP server unreachable, login refused, folder missing: retry next pass
    │   └── MailboxAuthExpired   the OAuth refresh token was revoked or expired: the operator authorizes again
    ├── MailboxBusy              another worker holds the mailbox lease: skip it this pass
    ├── BillRejected             a message's content cannot become a stored bill (recorded, pass goes on)
    │   ├── NoBill               no PDF in the message
    │   ├── AttachmentTooLarge   an attachment over the size limit
    │   ├── BillTooLarge         reading the PDF needs more memory than the limit (a bomb)
    │   ├── BillLocked           encrypted PDF and no password opens it: register the PDF password
    │   ├── BillUnreadable       corrupt PDF, not a PDF, no text layer      (wraps processor.parse errors)
    │   ├── Unroutable           no unit has the recipient address
    │   ├── UnregisteredInstallation  a login's inbox got a bill of an installation of no unit of it: waits
    │   └── DkimFailed           DKIM did not pass under policy `require`
    ├── ForwardFailed            SMTP refused or failed: `permanent` parks, otherwise retried with backoff
    └── MessageNotFound          `faturas mail retry` got an unknown message

Each error carries the `MessageStage` it leads to; messages never contain a password.
Parser errors (`processor.parse.errors.BillError`) are translated to BillUnreadable in processor/unlock.py.
"""

from __future__ import annotations

from storage.errors import FaturasError
from storage.mail_models import MessageStage


class MailboxUnavailable(FaturasError):
    """The IMAP server could not be reached or refused us; the account is retried next pass."""

    user_message = "A caixa de e-mail das faturas está indisponível; nova tentativa na próxima verificação."


class MailboxAuthExpired(MailboxUnavailable):
    """The provider refused the stored refresh token (revoked, expired, or never authorized).

    State `mailbox_auth_expired`, who acts: the operator, with `faturas mail accounts authorize NAME`. No
    pass retries the token endpoint until then: the account is skipped and the others go on.
    """

    state = "mailbox_auth_expired"
    user_message = ("A autorização de acesso à caixa de e-mail expirou ou foi revogada; o operador precisa "
                    "autorizá-la de novo com `faturas mail accounts authorize {name}`.")

    def __init__(self, message: str, *, account: str) -> None:
        super().__init__(message)
        self.account = account


class MailboxBusy(FaturasError):
    """Another worker holds this mailbox's lease."""

    user_message = "Outra instância já está processando esta caixa de e-mail."


class BillRejected(FaturasError):
    """A message's content cannot become a stored bill; `stage` names the outcome recorded."""

    stage: MessageStage = MessageStage.UNREADABLE
    user_message = "Não foi possível processar a fatura recebida."


class NoBill(BillRejected):
    """The message carries no PDF."""

    stage = MessageStage.NO_BILL
    user_message = "O e-mail recebido não contém uma fatura em PDF."


class AttachmentTooLarge(BillRejected):
    """An attachment exceeds the configured size limit."""

    stage = MessageStage.TOO_LARGE
    user_message = "O anexo do e-mail é maior que o limite permitido e não foi processado."


class BillTooLarge(BillRejected):
    """Reading the PDF needs more memory than the limit (a compression bomb): it is not read."""

    stage = MessageStage.TOO_LARGE
    user_message = ("O PDF precisaria de memória demais para ser lido (arquivo malformado ou compactado de forma "
                    "abusiva) e não foi processado; confira-o manualmente.")


class BillLocked(BillRejected):
    """The PDF is encrypted and neither the unit's password nor the utility's rule opens it."""

    stage = MessageStage.PDF_LOCKED
    user_message = ("A fatura chegou protegida por senha e não pôde ser aberta. Cadastre a senha do PDF "
                    "na unidade para que as próximas faturas sejam lidas e encaminhadas.")


class BillUnreadable(BillRejected):
    """The PDF is corrupt, not a PDF, has no text, or is not a bill we know."""

    stage = MessageStage.UNREADABLE
    user_message = "O PDF da fatura não pôde ser lido ou interpretado; confira-o manualmente."


class Unroutable(BillRejected):
    """No unit has the address the message was sent to."""

    stage = MessageStage.UNROUTABLE
    user_message = "O e-mail chegou para um endereço que não pertence a nenhuma unidade cadastrada."


class UnregisteredInstallation(BillRejected):
    """A bill at a portal login's inbox names an installation no unit of that login has; the message waits.

    Carries what the bill printed, to pre-fill the registration ("Cadastrar esta instalação").
    """

    stage = MessageStage.UNREGISTERED_INSTALLATION

    def __init__(self, message: str, *, portal_login_id: int, installation: str | None, uc_code: str | None,
                 holder_name: str | None) -> None:
        code = installation or uc_code
        super().__init__(message, user_message=(
            f"Chegou uma fatura da instalação {code}, que não está cadastrada neste login. Use "
            "\"Cadastrar esta instalação\" para cadastrá-la: a fatura aguardando será processada e encaminhada. "
            "Se for de uma unidade já cadastrada só pelo número da instalação, informe nela o código UC."))
        self.portal_login_id = portal_login_id
        self.installation = installation
        self.uc_code = uc_code
        self.holder_name = holder_name


class DkimFailed(BillRejected):
    """The DKIM signature is missing, invalid or not from the utility's domains (policy `require`)."""

    stage = MessageStage.DKIM_FAILED
    user_message = ("O e-mail não pôde ser autenticado como enviado pela concessionária (DKIM) e ficou "
                    "em quarentena.")


class ForwardFailed(FaturasError):
    """Sending a forward failed; `permanent` (5xx) parks it, otherwise it is retried with backoff."""

    user_message = "Não foi possível encaminhar a fatura ao cliente."

    def __init__(self, message: str, *, permanent: bool, response: str | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.response = response


class MessageNotFound(FaturasError):
    """No examined message matches the reference given."""

    user_message = "Mensagem não encontrada."
