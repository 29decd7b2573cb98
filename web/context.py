"""What the web layer shares across requests: the application context, the signing secret, templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.templating import Jinja2Templates

from config.context import AppContext
from config.wiring import blob_store
from storage.blobs import Blobs
from web.sandbox import Sandbox
from web.services.adhesion import AdhesionRunner

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

SESSION_COOKIE = "faturas_session"
PRELOGIN_COOKIE = "faturas_prelogin"


@dataclass
class WebContext:
    """Built once by `create_app` and kept on `app.state.web`."""

    app: AppContext
    secret: bytes
    templates: Jinja2Templates
    runner: AdhesionRunner
    sandbox: Sandbox | None = None
    """Set by `faturas serve --sandbox` only: the embedded stack behind the sandbox-only controls."""

    @property
    def blobs(self) -> Blobs:
        """The content-addressed blob folder."""
        return blob_store(self.app)
