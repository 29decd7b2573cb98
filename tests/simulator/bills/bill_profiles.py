"""Invented installations (no real customer data) for the bill generator and mailer tests."""

from __future__ import annotations

from simulator.bills.profile import InstallationProfile

GD_COMPANY = InstallationProfile(
    installation="3000000017",
    customer_number="7000000013",
    holder_name="PADARIA SOL NASCENTE LTDA",
    holder_document="11222333000181",
    address_lines=("RUA DAS ACACIAS 120 LJ", "JARDIM AMERICA", "30421-000 BELO HORIZONTE, MG"),
    supply_type="trifasico",
    tariff_class="Comercial",
    tariff_subclass="Outros serviços e outras atividades",
    has_generation=True,
    email="uc-3000000017-k7q2@faturas.example.com",
    seed=7,
)
GD_HOME = InstallationProfile(
    installation="3000000025",
    customer_number="7000000021",
    holder_name="ANA BEATRIZ FICTICIA SOUZA",
    holder_document="52998224725",
    address_lines=("AV DOS IPES 45 CS", "CENTRO", "35500-000 DIVINOPOLIS, MG"),
    supply_type="bifasico",
    tariff_class="Residencial",
    tariff_subclass="Residencial",
    has_generation=True,
    pdf_password="52998",
    email="uc-3000000025-p3x9@faturas.example.com",
    seed=11,
)
PLAIN_HOME = InstallationProfile(
    installation="3000000033",
    customer_number="7000000039",
    holder_name="JOSE CARLOS EXEMPLO",
    holder_document="11144477735",
    address_lines=("RUA TRES 300", "VILA NOVA", "36010-000 JUIZ DE FORA, MG"),
    supply_type="monofasico",
    has_generation=False,
    seed=23,
)
PROFILES = (GD_COMPANY, GD_HOME, PLAIN_HOME)
