"""The project's error tree, grouped by what the caller must do about it.

    FaturasError                      root of every domain error; carries a pt-BR `user_message`
    ├── ConfigurationError            a setting is missing or wrong: fix the configuration
    │   └── SecretKeyMissing          no encryption key: run `faturas keys generate`
    ├── SecretKeyInvalid              a stored secret cannot be decrypted with the keys given
    ├── UnitInputError                a unit's field is invalid (field name + reason)
    ├── DuplicateUnit                 the installation is already registered
    ├── UnitNotFound                  no unit with that id or installation
    └── BackupError                   a backup folder is incomplete, altered, or cannot be restored here

Portal errors (retry / tell the client / finish a challenge / tell a developer) live in
`flows.errors`, because flows depend on nothing of ours; the bot maps them to adhesion states.
Programmer errors stay built-in exceptions.
"""

from __future__ import annotations


class FaturasError(Exception):
    """Root of every domain error.

    `str(error)` is the English message for logs and the CLI; `user_message` is what the dashboard
    shows an integrator (pt-BR). Neither ever contains a secret.
    """

    user_message: str = "Ocorreu um erro inesperado."

    def __init__(self, message: str, *, user_message: str | None = None) -> None:
        super().__init__(message)
        if user_message is not None:
            self.user_message = user_message


class ConfigurationError(FaturasError):
    """A configuration value is missing or invalid."""

    user_message = "A configuração do sistema está incompleta ou inválida."


class SecretKeyMissing(ConfigurationError):
    """No encryption key is available for the secrets stored in the database."""

    user_message = "A chave de criptografia não foi configurada."


class SecretKeyInvalid(FaturasError):
    """A stored secret could not be decrypted with any of the configured keys."""

    user_message = "Não foi possível ler um segredo armazenado: a chave de criptografia não confere."


class UnitInputError(FaturasError):
    """One field of a unit is invalid; `field` names it and the message says why."""

    user_message = "Dados da unidade inválidos."

    def __init__(self, field: str, reason: str, *, user_message: str | None = None) -> None:
        super().__init__(f"{field}: {reason}", user_message=user_message)
        self.field = field
        self.reason = reason


class DuplicateUnit(FaturasError):
    """The installation is already registered as another unit."""

    user_message = "Esta instalação já está cadastrada."


class UnitNotFound(FaturasError):
    """No unit matches the id or installation given."""

    user_message = "Unidade não encontrada."


class BackupError(FaturasError):
    """A backup cannot be written or restored: the folder is not empty, a file is missing or altered."""

    user_message = "A cópia de segurança não pôde ser feita ou restaurada."


class InvalidDomain(FaturasError):
    """A sender domain to trust is not a domain name."""

    user_message = "Informe um domínio válido, por exemplo cemig.com.br."
