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
}

INVOICE_STATUS_LABELS = {"parsed": "Lida", "needs_review": "Revisar"}
SOURCE_LABELS = {"email": "E-mail", "upload": "Envio manual"}
FORWARD_STATUS_LABELS = {"pending": "Na fila para", "sending": "Enviando para", "sent": "Encaminhada para",
                         "parked": "Não enviada para"}
