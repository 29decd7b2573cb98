"""Seeded perturbations of the portal: other wordings, interstitials, reordered sections, slow answers.

`Perturbation.of(seed)` is a pure function of the seed, so a failing seed reproduces exactly. The
wordings are written from the reference notes and from how Brazilian service portals talk, some of them
beyond anything a bot's vocabulary is likely to hold. `solvable` says whether a person reading the
screen could still tell what to click from the structure alone; when it is false the journey cannot be
completed by intent and an automation must stop cleanly rather than guess.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

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


@dataclass(frozen=True)
class Perturbation:
    """Everything one seed changes; JSON-serialisable so the page's script can read it."""

    seed: int
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

    @classmethod
    def of(cls, seed: int, *, beyond_vocabulary: bool = True) -> Perturbation:
        """The perturbation of `seed` (seed 0 is the unperturbed portal)."""
        if seed == 0:
            return cls(seed=0)
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

    def as_json(self) -> dict:
        """The perturbation as plain JSON for the page's script."""
        return asdict(self)

    def delay(self, step: str) -> float:
        """Seconds this seed makes the step wait."""
        return self.delays.get(step, 0.0)


def mask(email: str) -> str:
    """`maria.souza@example.com` → `m***@example.com`, as portals show an address they will not reveal."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else email
