"""`faturas demo`: the main job on embedded defaults (grows with each capability that lands).

Today it sets up the data folder (key file, SQLite database migrated to head), registers three sample
units with encrypted credentials, and shows what the integrator's pop-up shows for each.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bot.context import AppContext
from storage.engine import session_scope
from storage.models import UnitCreate, UnitPublic
from storage.secrets import new_key, write_key_file
from storage.units import create_unit, get_unit
from storage.errors import UnitNotFound

SAMPLE_UNITS = (
    UnitCreate(installation="3001234567", client_name="Maria Aparecida Souza", holder_document="52998224725",
               portal_login="52998224725", portal_password="demo-senha-1", forward_to=["maria@cliente.example"]),
    UnitCreate(installation="3007654321", client_name="Padaria Pão de Minas Ltda", holder_document="11444777000161",
               portal_login="padaria@cliente.example", portal_password="demo-senha-2",
               forward_to=["financeiro@padaria.example"], pdf_password="11444"),
    UnitCreate(uc_code="300000000123456", client_name="João Batista Lima", holder_document="15350946056",
               portal_login="15350946056", portal_password="demo-senha-3", forward_to=["joao@cliente.example"]),
)


def run_demo(app: AppContext) -> int:
    """Set up the data folder and the sample units; print them; return the exit code."""
    console = Console()
    settings = app.settings
    if not settings.secret_keys and not settings.key_file.exists():
        write_key_file(settings.key_file, (new_key(),))
        console.print(f"created key file {settings.key_file}")
    keys = app.keys()
    shown: list[UnitPublic] = []
    with session_scope(app.engine) as session:
        for unit_in in SAMPLE_UNITS:
            try:
                unit = get_unit(session=session, ref=unit_in.installation or unit_in.uc_code or "")
            except UnitNotFound:
                unit = create_unit(session=session, unit_in=unit_in, keys=keys, inbox=app.inbox_policy)
            shown.append(UnitPublic.from_unit(unit))
    table = Table("unit", "installation", "client", "E-mail para cadastro na concessionária",
                  "E-mail para receber as faturas", "PDF password", "adhesion", title="faturas demo")
    for unit in shown:
        table.add_row(str(unit.id), unit.installation or unit.uc_code or "", unit.client_name, unit.inbox_address,
                      ", ".join(unit.forward_to), "set" if unit.has_pdf_password else "-", unit.adhesion_status)
    console.print(table)
    console.print(f"database: {settings.database_url}")
    return 0
