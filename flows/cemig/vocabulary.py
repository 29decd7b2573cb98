"""CEMIG's pt-BR vocabulary as data: the accepted wordings of each concept, and where each comes from.

Sources are sections of `../shared/reference/cemig-portal.md` ("§4"), or "plausible variant" for wordings
no source shows but a portal of this kind is likely to use. Matching is accent- and case-insensitive and
finds a wording inside a longer text on word boundaries (`pattern("enrol")` matches "Quero aderir agora").
`DENY` lists controls the bot must never click, whatever a step is looking for; every click checks it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

PV = "plausible variant"

WORDINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "login_heading": (
        ("Acesse a Agência Virtual", "simulator legacy markup; §2.1 (login page)"),
        ("Agência Virtual", "§0, §1.1"), ("Entrar na sua conta", PV), ("Faça seu login", PV),
        ("Acesse sua conta", PV), ("Login", "§1.1 (/Login)"),
    ),
    "login_field": (
        ("CPF, CNPJ ou e-mail", "§2.2 (identifier formats)"), ("CPF ou CNPJ", "§2.2"),
        ("do Usuário", "§2.1 ([PW-GD] placeholder *='do Usuário')"), ("CPF", "§2.1 ([PW-GD] placeholder *='CPF')"),
        ("Usuário", "§2.1"), ("E-mail", "§2.2"), ("Login", PV), ("Documento", PV),
    ),
    "password_field": (("Senha", "§2.1 (#senha, name=Senha)"), ("Digite sua senha", PV)),
    "login_button": (
        ("Entrar", "§2.1 (#submitForm text, [Sel-new])"), ("Acessar", PV), ("Fazer login", PV), ("Login", PV),
    ),
    "login_error": (
        ("senha inválid*", PV), ("usuário ou senha", PV), ("dados inválidos", PV), ("não confere", PV),
        ("incorret*", PV), ("bloquead*", "simulator; §11.9 (lockouts)"), ("tente novamente", PV),
    ),
    "locked": (("bloquead*", "§11.9 (lockouts after failed logins)"), ("excesso de tentativas", PV)),
    "captcha": (("Não sou um robô", "§2.1 (#divRecaptcha)"), ("reCAPTCHA", "§2.1"), ("captcha", "§2.1"),
                ("robô", "§2.1")),
    "cookie_button": (
        ("Rejeitar cookies", "§2.1 ([Win-2026])"), ("Aceitar cookies", "§2.1 ([Win-2026])"),
        ("Rejeitar todos", PV), ("Aceitar todos", PV),
    ),
    "cookie_reject": (("Rejeitar cookies", "§2.1"), ("Rejeitar todos", PV), ("Recusar", PV),
                      ("Somente necessários", PV), ("Apenas necessários", PV)),
    "cookie_accept": (("Aceitar cookies", "§2.1"), ("Aceitar todos", PV), ("Aceitar", PV)),
    "close": (
        ("Fechar", "§2.4 (button:has-text('Fechar'), [aria-label*='Fechar'])"), ("Agora não", "§2.4"),
        ("Depois", PV), ("Mais tarde", PV), ("Lembrar depois", PV), ("Pular", PV), ("Não, obrigado", PV),
        ("Não obrigado", PV), ("Entendi", PV), ("Ciente", PV), ("OK", PV), ("Ok, entendi", PV),
        ("Continuar navegando", PV), ("Dispensar", PV), ("×", PV), ("✕", PV),
    ),
    "interstitial": (
        ("Atualize seus dados", "§2.4 ('atualize seus dados' modals)"), ("LGPD", "§2.4"),
        ("Pesquisa de satisfação", PV), ("Avalie", PV), ("recomendaria", PV), ("Novidade", PV),
        ("Aviso", PV), ("Privacidade", "§2.1 (OneTrust)"),
    ),
    "logged_in": (
        ("Minhas instalações", "§3.2 (header)"), ("Trocar Unidade Consumidora", "§3.1 ([V23])"),
        ("Serviços essenciais", "§5 (home grid)"), ("Número do cliente", "§4 (user card)"),
        ("Você está na instalação", "§3.2"), ("Olá", PV), ("Início", "§3.2 (left nav)"),
    ),
    "installations": (
        ("Minhas instalações", "§3.2"), ("Minhas Instalações", "§3.2 (left nav)"),
        ("Trocar Unidade Consumidora", "§3.1"), ("Selecionar instalação", PV), ("Escolha a instalação", PV),
        ("Unidades consumidoras", PV),
    ),
    "switch_installation": (
        ("Trocar Unidade Consumidora", "§3.1 ([V23])"), ("Trocar", "§3.2 ([Win-2026])"),
        ("Minhas instalações", "§3.2"), ("Trocar instalação", PV), ("Alterar instalação", PV),
    ),
    "installation_search": (
        ("Buscar por instalação", "§3.2 (clone search box)"), ("Nº da instalação", "§3.2"),
        ("Número da instalação", "§3.2"), ("NumeroInstalacao", "§3.1"), ("Unidade Consumidora", "§3.2"),
        ("Pesquisar instalação", PV),
    ),
    "search_button": (("Pesquisar", "§3.1 (//button[normalize-space(.)='Pesquisar'])"), ("Buscar", PV),
                      ("Procurar", PV)),
    "select_button": (("Selecionar", "§3.1 (a.selInstalacao)"), ("Escolher", PV), ("Acessar", PV)),
    "not_found": (("não encontrada", PV), ("não encontrado", PV), ("nenhuma instalação", PV),
                  ("não localizada", PV), ("não pertence", PV)),
    "access_data": (
        ("Editar dados de acesso", "§4 (user menu)"), ("Dados de acesso", "§4"), ("Alterar dados de acesso", PV),
        ("Meus dados de acesso", PV), ("Editar acesso", PV),
        ("Editar Informações", "§4 (legacy AGV manual, 1.7 Editar Informações)"),
    ),
    "email_field": (("E-mail", "§4"), ("Email", PV), ("Endereço de e-mail", PV), ("Novo e-mail", PV),
                    ("E-mail de acesso", PV), ("Seu e-mail", PV)),
    "current_password_field": (
        ("Senha atual", "§4, §9.5 (left open: a portal may ask for it when the access e-mail changes)"),
        ("Confirme sua senha", PV), ("Confirme a senha", PV), ("Confirmar senha", PV), ("Digite sua senha", PV),
        ("Sua senha", PV), ("Senha", "§2.1 (the login form's label)"),
    ),
    "new_password_field": (("Nova senha", PV), ("Repita a nova senha", PV), ("Confirme a nova senha", PV),
                           ("Nova senha de acesso", PV)),
    "confirm_code": (("digite o código", "§4, §9.5 (left open)"), ("código de confirmação", PV),
                     ("código enviado", PV), ("informe o código", PV), ("código de verificação", PV),
                     ("código de segurança", PV)),
    "confirm_link": (("link enviado", "§4, §9.5 (left open)"), ("link de confirmação", PV),
                     ("clique no link", PV), ("confirme pelo link", PV), ("link de verificação", PV)),
    "save": (("Salvar", "simulator; §4 (no public source)"), ("Salvar alterações", PV), ("Atualizar", PV),
             ("Gravar", PV), ("Confirmar", PV), ("Alterar", PV)),
    "saved": (
        ("atualizados com sucesso", PV), ("atualizado com sucesso", PV), ("alterado com sucesso", PV),
        ("alterados com sucesso", PV), ("salvo com sucesso", PV), ("salvos com sucesso", PV),
        ("Dados de acesso atualizados", "simulator"), ("sucesso", PV),
    ),
    "conta_digital": (
        ("Conta Digital", "§0, DESIGN.md"), ("Conta digital", "§5 (clone home grid)"),
        ("Conta por e-mail", "§4 (manual 2.11, legacy AGV)"), ("Conta por email", PV),
        ("Fatura digital", "§10 (SolarZ)"), ("Fatura por e-mail", PV), ("Conta online", PV),
    ),
    "enrol": (
        ("Aderir à Conta Digital", "DESIGN.md; §11.6"), ("Aderir", "§5 ('a button containing Aderir')"),
        ("Quero aderir", PV), ("Ativar", PV), ("Ativar Conta Digital", PV), ("Cadastrar", PV),
        ("Quero receber por e-mail", PV), ("Receber por e-mail", PV),
    ),
    "enrolled": (
        ("já está cadastrada", "simulator"), ("já possui", "§5 ('você já possui…')"), ("já é cadastrad*", PV),
        ("já está ativa", PV), ("Conta Digital ativa", PV), ("Conta digital ativada", PV), ("adesão ativa", PV),
        ("você já aderiu", PV), ("já aderiu", PV), ("está ativo", PV), ("cadastrada na Conta", PV),
    ),
    "bills_go_to": (
        ("enviadas para", "simulator"), ("enviada para", PV), ("e-mail cadastrado", PV), ("receberá", PV),
        ("faturas serão enviadas", PV), ("chegam no e-mail", PV), ("e-mail de envio", PV),
    ),
    "terms": (
        ("Termo de adesão", "DESIGN.md ('termo de adesão')"), ("Termos de adesão", PV), ("Termo de uso", PV),
        ("Termos de uso", PV), ("Termos e condições", PV), ("Regulamento", PV), ("Termo", PV),
    ),
    "confirm": (
        ("Confirmar adesão", "simulator"), ("Confirmar", PV), ("Aceitar e aderir", PV), ("Concluir", PV),
        ("Finalizar", PV), ("Aderir", "§5"), ("Continuar", PV), ("Enviar", PV),
    ),
    "done": (
        ("Adesão realizada com sucesso", "simulator"), ("adesão realizada", PV), ("adesão concluída", PV),
        ("adesão efetuada", PV), ("solicitação realizada", PV), ("Conta Digital ativada", PV),
        ("Pronto", PV), ("Tudo certo", PV), ("sucesso", PV),
    ),
    "unavailable": (
        ("Serviço temporariamente indisponível", "simulator"), ("Ocorreu um erro inesperado", "simulator"),
        ("indisponível", PV), ("Ocorreu um erro", PV), ("Erro interno", PV), ("tente mais tarde", PV),
        ("Não foi possível concluir", PV), ("Não foi possível carregar", PV),
        ("Não foi possível salvar", PV),
    ),
    "session_expired": (("sessão expirou", "simulator"), ("sessão expirada", PV), ("sessão encerrada", PV),
                        ("faça login novamente", PV), ("sua sessão terminou", PV)),
    "loading": (("Carregando", "issue 15 ('Carregando…')"), ("Aguarde", PV), ("Processando", PV),
                ("Carregando…", PV)),
    "user_menu_hint": (("Número do cliente", "§4"), ("Editar dados de contrato", "§4"), ("Trocar senha", "§4")),
}

DENY: tuple[tuple[str, str], ...] = (
    ("Cancelar adesão", "§5 (cancel / 'Descadastrar')"), ("Descadastrar", "§5"), ("Cancelar Conta Digital", PV),
    ("Desativar", PV), ("Excluir conta", "§4 (user card)"), ("Excluir", PV), ("Sair", "§4 (red button)"),
    ("Encerrar sessão", "§2.1 (#btnEncerrarSessao)"), ("Logout", PV), ("Continuar com Google", "§0 (SSO)"),
    ("Google", "§0"), ("Trocar senha", "§4"), ("Esqueci", PV), ("Redefinir senha", PV), ("Alterar senha", PV),
    ("Cancelar", PV), ("Voltar a receber", PV), ("conta impressa", PV), ("Pagar", PV), ("Parcelar", PV),
)

_FOLD = {"a": "aáàâãä", "e": "eéèêë", "i": "iíìîï", "o": "oóòôõö", "u": "uúùûü", "c": "cç", "n": "nñ"}
_LETTER = "A-Za-zÀ-ÿ0-9"


def fold(text: str) -> str:
    """Lower case without accents: the form two wordings are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _piece(wording: str) -> str:
    """The regex of one wording; a trailing `*` makes it a stem ("bloquead*": bloqueado, bloqueada)."""
    stem = wording.endswith("*")
    folded = fold(wording.rstrip("*"))
    parts: list[str] = []
    for ch in folded:
        if ch in _FOLD:
            parts.append(f"[{_FOLD[ch]}{_FOLD[ch].upper()}]")
        elif ch.isspace():
            parts.append(r"\s+")
        elif ch == "-":
            parts.append(r"[-‐‑]?\s*")  # "e-mail", "email", "e‑mail"
        elif ch.isalpha():
            parts.append(f"[{ch}{ch.upper()}]")
        else:
            parts.append(re.escape(ch))
    head = f"(?<![{_LETTER}])" if folded[:1].isalnum() else ""
    tail = f"(?![{_LETTER}])" if folded[-1:].isalnum() and not stem else ""
    return head + "".join(parts) + tail


def regex_of(wordings: tuple[str, ...], *, whole: bool = False) -> re.Pattern[str]:
    """One accent/case-insensitive regex matching any of `wordings` (the whole text when `whole`)."""
    alternatives = "|".join(_piece(w) for w in sorted(wordings, key=len, reverse=True))
    if whole:
        return re.compile(rf"^\s*(?:{alternatives})\s*$", re.IGNORECASE)
    return re.compile(f"(?:{alternatives})", re.IGNORECASE)


@cache
def pattern(concept: str, *, whole: bool = False) -> re.Pattern[str]:
    """The regex of one concept of `WORDINGS` (or "deny")."""
    if concept == "deny":
        return regex_of(tuple(w for w, _ in DENY), whole=whole)
    return regex_of(tuple(w for w, _ in WORDINGS[concept]), whole=whole)


def matches(concept: str, text: str) -> bool:
    """Whether `text` holds one of the concept's wordings."""
    return pattern(concept).search(text or "") is not None


def denied(text: str) -> bool:
    """Whether a control named `text` is destructive (on the deny list)."""
    return pattern("deny").search(text or "") is not None
