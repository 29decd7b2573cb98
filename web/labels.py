"""pt-BR labels for states and actors, shown on pages (codes stay English in the API)."""

from __future__ import annotations

STATUS_LABELS = {
    "pending": "Aguardando adesão",
    "running": "Adesão em andamento",
    "email_set": "E-mail cadastrado no portal",
    "enrolled": "Aderida à Conta Digital",
    "verified": "Verificada (primeira fatura recebida)",
    "invalid_credentials": "Login ou senha do portal inválidos",
    "captcha_required": "Captcha pendente",
    "installation_not_found": "Instalação não encontrada no portal",
    "enrolled_elsewhere": "Aderida com outro e-mail",
    "portal_unavailable": "Portal indisponível",
    "portal_changed": "O portal mudou",
    "bill_overdue": "Fatura atrasada (não chegou no prazo)",
    "password_required": "Senha do portal necessária",
}

ACTOR_LABELS = {
    "bot": "Robô",
    "utility": "Concessionária",
    "nobody": "Ninguém",
    "client": "Cliente",
    "operator": "Operador",
    "integrator": "Integrador",
    "developer": "Suporte técnico",
}

# What the integrator must do, per state that needs someone.
ACTIONS = {
    "invalid_credentials": "Peça ao cliente a senha atual da Agência Virtual e cadastre-a em "
                           "Configurações → Cadastrar e-mail; depois clique em Aderir automaticamente.",
    "captcha_required": "Um operador precisa resolver o captcha: execute a adesão com o navegador visível "
                        "(faturas adhere UNIDADE --headed) ou configure um serviço de captcha.",
    "installation_not_found": "Confira o número da instalação e o login do portal do cliente.",
    "portal_changed": "Avise o suporte técnico: a página do portal mudou (veja a captura de tela).",
    "portal_unavailable": "Nada a fazer agora: o robô tentará novamente mais tarde.",
    "enrolled": "Nada a fazer: a próxima fatura chegará por e-mail.",
    "bill_overdue": "A fatura do ciclo não chegou: confira no portal se a unidade continua na Conta Digital com o "
                    "e-mail para cadastro desta página e clique em Aderir automaticamente.",
    "password_required": "A senha do portal deste login foi apagada (LGPD) ou nunca foi informada. Peça ao "
                         "cliente a senha atual da Agência Virtual, cadastre-a na unidade e clique em Aderir "
                         "automaticamente.",
    "enrolled_elsewhere": "Nada a fazer agora: o robô vai trocar o e-mail cadastrado no portal pelo desta página.",
}

# The bot's steps (attempt.step_reached), as an integrator reads them. A step the bot learns later and that is
# missing here shows as STEP_FALLBACK, never as its internal name.
STEP_LABELS = {
    "prepare": "Preparação",
    "open_portal": "Abrir o portal",
    "cookie_banner": "Aviso de cookies",
    "login": "Login na Agência Virtual",
    "post_login_dialog": "Avisos após o login",
    "interstitial": "Avisos e janelas do portal",
    "select_installation": "Escolha da instalação",
    "list_installations": "Leitura da lista de instalações do login",
    "access_data": "Dados de acesso",
    "save_email": "Cadastro do e-mail",
    "verify_email": "Conferência do e-mail cadastrado",
    "conta_digital": "Conta Digital",
    "adhesion_terms": "Termo de adesão",
    "confirm_adhesion": "Confirmação da adesão",
    "verify_enrolled": "Conferência da adesão",
}
STEP_FALLBACK = "Etapa do portal"


def step_label(step: str | None) -> str | None:
    """The pt-BR name of a bot step; STEP_FALLBACK for one not listed."""
    if not step:
        return None
    return STEP_LABELS.get(step, STEP_FALLBACK)

MAILBOX_STATE_LABELS = {
    "mailbox_auth_expired": ("A autorização de acesso à caixa de e-mail {account} expirou ou foi revogada: as "
                             "faturas dela não estão sendo lidas (ou encaminhadas, se for o envio). O operador "
                             "deve autorizá-la de novo com o comando faturas mail accounts authorize {account}."),
    "unreadable": ("A autorização da caixa de e-mail {account} não pôde ser lida com as chaves configuradas; "
                   "o operador deve conferir o arquivo de chaves ou autorizá-la de novo."),
}
INVOICE_STATUS_LABELS = {"parsed": "Lida", "needs_review": "Revisar"}
SOURCE_LABELS = {"email": "E-mail", "upload": "Envio manual"}
FORWARD_STATUS_LABELS = {"pending": "Na fila para", "sending": "Enviando para", "sent": "Encaminhada para",
                         "parked": "Não enviada para"}
