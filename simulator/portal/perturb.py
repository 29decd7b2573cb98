"""Seeded perturbations of the portal: other wordings, interstitials, reordered sections, slow answers.

`Perturbation.of(seed, family=...)` is a pure function of the seed and the family, so a failing seed
reproduces exactly. The single-page family (``spa``) draws everything its script can vary; the
server-rendered families (``new``, ``legacy``, ``agv``) draw wordings in headings, paragraphs, labels and
button or link names (synonyms and casing), headings rendered as plain paragraphs, main content that
arrives late by XHR behind a "Carregando…" placeholder, and a confirmation of the new access e-mail by a
code or a link (simulator.portal.confirm_email). The Material-UI-like family (``mui``) draws both kinds:
its script's wordings, casing, interstitials, reordering, the terms' scroll and the masked address, and the
server's late answers, titles as paragraphs, the current password and the e-mail confirmation. The
wordings are written from the reference notes and from how Brazilian service portals talk, some of them
beyond anything a bot's vocabulary is likely to hold. `solvable` says whether a person reading the
screen could still tell what to click from the structure alone; when it is false the journey cannot be
completed by intent and an automation must stop cleanly rather than guess.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

# (wording, whether the structure of its screen still makes the intent unambiguous without it)
ENROL_BUTTONS = (("Aderir à Conta Digital", True), ("Quero aderir", True), ("Ativar Conta digital", True),
                 ("Aderir", True))
ENROL_UNKNOWN = ("Quero a fatura sem papel", False)
"""An action wording outside any list: only the words tell what it does, so an automation must stop."""
CONTA_CARDS = (("Conta digital", True), ("Conta Digital", True), ("Conta por e-mail", True), ("Fatura digital", True))
CONTA_UNKNOWN = ("Fatura verde", False)
EMAIL_LABELS = (("E-mail", True), ("Email", True), ("Endereço de e-mail", True), ("Novo e-mail", True),
                ("Correio eletrônico", True))
"""The only text field of a form headed with "e-mail": any label will do."""
TERMS_CHECKBOXES = (("Li e aceito o termo de adesão", True), ("Li e concordo com os termos", True),
                    ("Estou de acordo", True), ("Declaro que li o regulamento", True))
"""The only checkbox of the terms dialog: any label will do."""
CONFIRM_BUTTONS = (("Confirmar adesão", True), ("Confirmar", True), ("Concluir", True), ("Aceitar e aderir", True))
SAVE_BUTTONS = (("Salvar", True), ("Salvar alterações", True), ("Atualizar", True), ("Gravar", True))
ACCESS_LINKS = (("Editar dados de acesso", True), ("Dados de acesso", True), ("Alterar dados de acesso", True))
INTERSTITIALS = ("nps", "lgpd", "update_data", "news")
CLOSE_WORDINGS = ("Fechar", "Agora não", "Depois", "×", "Mais tarde", "Entendi")
REAUTH = ("off", "off", "form", "dialog")
STEPS_DELAYED = ("home", "installations", "access_data_form", "access_data_save", "conta_digital",
                 "adhesion_confirm")

FAMILIES = ("new", "legacy", "agv", "spa", "mui")
SERVER_RENDERED = frozenset({"new", "legacy", "agv"})
DEFAULTS: dict[str, dict[str, Any]] = {
    # What each family's own markup says when nothing is perturbed (seed 0).
    "new": {"conta_card": "Conta Digital"}, "legacy": {"conta_card": "Conta Digital"}, "spa": {},
    "agv": {"enrol_button": "Cadastrar", "conta_card": "Conta por e-mail", "confirm_button": "Confirmar",
            "terms_checkbox": "Li e concordo com o termo", "access_link": "Editar Informações"},
    "mui": {"enrol_button": "Quero aderir", "terms_checkbox": "Concordo com os termos e condições",
            "confirm_button": "Confirmar", "save_button": "Salvar alterações", "close_wording": "Entendi",
            "saved_text": "Dados atualizados com sucesso.", "done_text": "Tudo certo!", "mask_email": True,
            "scroll_terms": True},
}
AGV_EMAIL_LABELS = (("E-mail", True), ("Email", True), ("Endereço de e-mail", True), ("Novo e-mail", True),
                    ("Correio eletrônico", False))
"""The AGV form has other text fields (name, mobile): a label without "e-mail" leaves the field ambiguous."""
CASINGS = ("as_is", "as_is", "upper", "lower")
CONFIRM_EMAIL = ("off", "off", "code", "link")
SAVED_TEXTS = ("Dados de acesso atualizados com sucesso.", "E-mail alterado com sucesso.",
               "Alterações salvas com sucesso.")
DONE_TEXTS = ("Adesão realizada com sucesso", "Tudo certo! Adesão concluída", "Solicitação realizada com sucesso")
LATE_STEPS = ("home", "installations", "access_data_form", "access_data_save", "conta_digital", "adhesion_terms",
              "adhesion_confirm")
"""Pages of the server-rendered families whose main content a seed may send late, by XHR."""


@dataclass(frozen=True)
class Perturbation:
    """Everything one seed changes; JSON-serialisable so the page's script can read it."""

    seed: int
    family: str = "spa"
    enrol_button: str = "Aderir à Conta Digital"
    conta_card: str = "Conta digital"
    email_label: str = "E-mail"
    terms_checkbox: str = "Li e aceito o termo de adesão"
    confirm_button: str = "Confirmar adesão"
    save_button: str = "Salvar"
    access_link: str = "Editar dados de acesso"
    interstitials: tuple[str, ...] = ()
    close_wording: str = "Fechar"
    reorder: bool = False
    mask_email: bool = False
    scroll_terms: bool = False
    delays: dict[str, float] = field(default_factory=dict)
    reauth: str = "off"
    """Saving the access e-mail asks for the current password: "off", in the "form", or in a "dialog"."""
    solvable: bool = True
    casing: str = "as_is"
    """How the drawn control wordings are cased: "as_is", "upper" or "lower" (server-rendered families)."""
    title_as_text: bool = False
    """Page titles are plain paragraphs instead of headings (server-rendered families)."""
    confirm_email: str = "off"
    """The new access e-mail takes effect only after a "code" or a "link" sent to it (server-rendered)."""
    saved_text: str = SAVED_TEXTS[0]
    done_text: str = DONE_TEXTS[0]

    @classmethod
    def of(cls, seed: int, *, family: str = "spa", beyond_vocabulary: bool = True) -> Perturbation:
        """The perturbation of `seed` for `family` (seed 0 is the family's unperturbed portal)."""
        if seed == 0 or family not in FAMILIES:  # a family this module does not know stays as its markup is
            return cls(seed=0, family=family, **DEFAULTS.get(family, {}))
        if family in SERVER_RENDERED:
            return cls._server_rendered(seed, family, beyond_vocabulary)
        if family == "mui":
            return cls._mui(seed, beyond_vocabulary)
        rng = random.Random(seed)
        solvable = True

        def choose(options: tuple[tuple[str, bool], ...], unknown: tuple[str, bool] | None = None) -> str:
            nonlocal solvable
            if unknown is not None and beyond_vocabulary and rng.random() < 0.08:
                solvable = solvable and unknown[1]
                return unknown[0]
            wording, ok = rng.choice(options)
            solvable = solvable and ok
            return wording

        delays = {step: round(rng.uniform(0.2, 3.0), 2) for step in STEPS_DELAYED if rng.random() < 0.25}
        return cls(
            seed=seed,
            enrol_button=choose(ENROL_BUTTONS, ENROL_UNKNOWN),
            conta_card=choose(CONTA_CARDS, CONTA_UNKNOWN),
            email_label=choose(EMAIL_LABELS),
            terms_checkbox=choose(TERMS_CHECKBOXES),
            confirm_button=choose(CONFIRM_BUTTONS),
            save_button=choose(SAVE_BUTTONS),
            access_link=choose(ACCESS_LINKS),
            interstitials=tuple(i for i in INTERSTITIALS if rng.random() < 0.35),
            close_wording=rng.choice(CLOSE_WORDINGS),
            reorder=rng.random() < 0.5,
            mask_email=rng.random() < 0.5,
            scroll_terms=rng.random() < 0.5,
            delays=delays,
            # Drawn last, so that every other choice of a seed stays what it was before this was added.
            reauth=rng.choice(REAUTH),
            solvable=solvable,
        )

    @classmethod
    def _server_rendered(cls, seed: int, family: str, beyond_vocabulary: bool) -> Perturbation:
        # Its own random stream per family, so that the spa family's seeds draw what they always drew.
        rng = random.Random(f"{family}:{seed}")
        casing = rng.choice(CASINGS)
        choose = _WordingDraw(rng, casing, beyond_vocabulary)
        own = DEFAULTS[family]
        return cls(
            seed=seed, family=family, casing=casing,
            enrol_button=choose(ENROL_BUTTONS, ENROL_UNKNOWN, own.get("enrol_button")),
            conta_card=choose(CONTA_CARDS, CONTA_UNKNOWN, own.get("conta_card")),
            email_label=choose(AGV_EMAIL_LABELS if family == "agv" else EMAIL_LABELS),
            terms_checkbox=choose(TERMS_CHECKBOXES, default=own.get("terms_checkbox")),
            confirm_button=choose(CONFIRM_BUTTONS, default=own.get("confirm_button")),
            save_button=choose(SAVE_BUTTONS),
            access_link=choose(ACCESS_LINKS, default=own.get("access_link")),
            close_wording=rng.choice(CLOSE_WORDINGS),
            title_as_text=rng.random() < 0.3,
            delays={step: round(rng.uniform(0.2, 3.0), 2) for step in LATE_STEPS if rng.random() < 0.3},
            confirm_email=rng.choice(CONFIRM_EMAIL),
            saved_text=rng.choice(SAVED_TEXTS),
            done_text=rng.choice(DONE_TEXTS),
            mask_email=rng.random() < 0.5,
            solvable=choose.solvable,
        )

    @classmethod
    def _mui(cls, seed: int, beyond_vocabulary: bool) -> Perturbation:
        # Its own random stream too: the other families' seeds draw what they always drew.
        rng = random.Random(f"mui:{seed}")
        casing = rng.choice(CASINGS)
        choose = _WordingDraw(rng, casing, beyond_vocabulary)
        own = DEFAULTS["mui"]
        return cls(
            seed=seed, family="mui", casing=casing,
            enrol_button=choose(ENROL_BUTTONS, ENROL_UNKNOWN, own["enrol_button"]),
            conta_card=choose(CONTA_CARDS, CONTA_UNKNOWN),
            # The only text field of its form (a password field beside it is none): any label will do.
            email_label=choose(EMAIL_LABELS),
            terms_checkbox=choose(TERMS_CHECKBOXES, default=own["terms_checkbox"]),
            confirm_button=choose(CONFIRM_BUTTONS, default=own["confirm_button"]),
            save_button=choose(SAVE_BUTTONS, default=own["save_button"]),
            access_link=choose(ACCESS_LINKS),
            interstitials=tuple(i for i in INTERSTITIALS if rng.random() < 0.35),
            close_wording=rng.choice(CLOSE_WORDINGS),
            reorder=rng.random() < 0.5,
            mask_email=rng.random() < 0.5,
            scroll_terms=rng.random() < 0.5,
            title_as_text=rng.random() < 0.3,
            delays={step: round(rng.uniform(0.2, 3.0), 2) for step in LATE_STEPS if rng.random() < 0.3},
            reauth=rng.choice(REAUTH),
            confirm_email=rng.choice(CONFIRM_EMAIL),
            saved_text=rng.choice((str(own["saved_text"]), *SAVED_TEXTS)),
            done_text=rng.choice((str(own["done_text"]), *DONE_TEXTS)),
            solvable=choose.solvable,
        )

    def as_json(self) -> dict:
        """The perturbation as plain JSON for the page's script."""
        return asdict(self)

    def delay(self, step: str) -> float:
        """Seconds this seed makes the step wait."""
        return self.delays.get(step, 0.0)

    def shown_email(self, email: str | None) -> str:
        """The address as the enrolled page shows it (masked when the seed says so)."""
        return mask(email) if email and self.mask_email else email or ""


class _WordingDraw:
    """Draws a seed's wordings from its random stream, in its casing, and remembers whether every draw is solvable.

    A family's own wording (`default`) is one more option; a wording beyond the vocabulary (`unknown`) comes up
    in 8 % of its draws when the seed may go beyond it.
    """

    def __init__(self, rng: random.Random, casing: str, beyond_vocabulary: bool) -> None:
        self.rng, self.casing, self.beyond_vocabulary = rng, casing, beyond_vocabulary
        self.solvable = True

    def __call__(self, options: tuple[tuple[str, bool], ...], unknown: tuple[str, bool] | None = None,
                 default: str | bool | None = None) -> str:
        if isinstance(default, str):
            options = ((default, True), *options)
        if unknown is not None and self.beyond_vocabulary and self.rng.random() < 0.08:
            wording, ok = unknown
        else:
            wording, ok = self.rng.choice(options)
        self.solvable = self.solvable and ok
        return cased(wording, self.casing)


def cased(wording: str, casing: str) -> str:
    """A wording in upper or lower case, or as it is."""
    return wording.upper() if casing == "upper" else wording.lower() if casing == "lower" else wording


def mask(email: str) -> str:
    """`maria.souza@example.com` → `m***@example.com`, as portals show an address they will not reveal."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else email
