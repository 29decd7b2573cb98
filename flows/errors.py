"""Portal errors, grouped by what the caller must do about them.

    FlowError                      root; `.step` names where it happened, `user_message` is pt-BR
    ├── PortalUnavailable          retry later, automatically (timeouts, HTTP 5xx, network)
    │   └── SessionExpired         the portal logged us out mid-flow: log in again and resume
    ├── LoginRejected              tell the client: wrong password, or the account is locked
    ├── ChallengeRequired          a captcha must be solved: saved session, operator or solver
    │   └── CaptchaRefused         the portal kept refusing the answers given to its captcha
    ├── InstallationNotFound       tell the integrator: the installation is not on this login
    └── PortalChanged              tell a developer: a page did not look as expected (trace kept)

Flows translate Playwright's exceptions into these at their boundary, always `raise … from exc`.
No message here ever contains a password.
"""

from __future__ import annotations


class FlowError(Exception):
    """Root of portal errors."""

    user_message = "Falha na automação do portal da concessionária."
    transient = False

    def __init__(self, message: str, *, step: str | None = None, user_message: str | None = None) -> None:
        super().__init__(message)
        self.step = step
        if user_message is not None:
            self.user_message = user_message


class PortalUnavailable(FlowError):
    """The portal did not answer properly; trying again later is the remedy."""

    user_message = "O portal da concessionária está indisponível; nova tentativa será feita automaticamente."
    transient = True


class SessionExpired(PortalUnavailable):
    """The portal ended our session in the middle of the flow."""

    user_message = "A sessão no portal expirou; o robô fará login novamente."


class LoginRejected(FlowError):
    """The portal refused the login and password (or locked the account)."""

    user_message = ("O portal recusou o login e a senha do cliente. Peça ao cliente a senha atual da "
                    "Agência Virtual e atualize-a na unidade.")

    def __init__(self, message: str, *, step: str | None = None, user_message: str | None = None,
                 locked: bool = False) -> None:
        super().__init__(message, step=step, user_message=user_message)
        self.locked = locked


class ChallengeRequired(FlowError):
    """The login shows a captcha and no strategy could pass it; carries what is needed to resume."""

    user_message = ("O portal pediu um captcha. Rode a adesão com --headed para um operador resolvê-lo, "
                    "ou configure um serviço de resolução de captcha.")

    def __init__(self, message: str, *, step: str | None = None, user_message: str | None = None,
                 site_key: str | None = None, page_url: str | None = None) -> None:
        super().__init__(message, step=step, user_message=user_message)
        self.site_key = site_key
        self.page_url = page_url


class CaptchaRefused(ChallengeRequired):
    """The portal refused the captcha's answer (a token, or the characters typed for an image).

    Raised by the login for each refusal; the flow retries an image captcha with a fresh image a bounded
    number of times and then lets the last one through: the attempt ends in the captcha state, no adhesion
    submitted.
    """

    user_message = ("O portal recusou as respostas dadas ao captcha da página de login. Rode a adesão com "
                    "--headed para um operador digitar os caracteres, ou confira o serviço de resolução de "
                    "captcha configurado.")


class InstallationNotFound(FlowError):
    """The installation is not among those of the portal login."""

    user_message = ("A instalação não aparece no login do cliente no portal. Confira o número da instalação "
                    "e o login informados na unidade.")


class PortalChanged(FlowError):
    """A page did not match what the flow expects; a developer must look at the trace."""

    user_message = ("O portal da concessionária mudou e o robô não reconheceu a página. A equipe técnica "
                    "foi avisada; a captura da tela foi guardada.")

    def __init__(self, message: str, *, step: str | None = None, user_message: str | None = None,
                 evidence: dict | None = None) -> None:
        super().__init__(message, step=step, user_message=user_message)
        self.evidence = evidence
        """What the step saw: `url`, `waiting_for`, `rejected` candidates, `clicked`, `aria_snapshot`
        (secrets removed). None when the error was raised without looking at the page."""
