# Run by `make run` inside `odoo-bin shell` (env is given), every time: puts
# the four providers in test mode against the loopback simulators and makes
# sure the shop has CLP products. Idempotent.
import base64
import os

from odoo.addons.payment_latam.simulators import demo_pki
from odoo.addons.payment_latam.simulators.registry import DEMO_PORTS

env = env  # noqa: F821 - provided by odoo-bin shell

# Return URLs and ETpay's webhook are built from it; an install run on another
# port would otherwise have left its own.
env["ir.config_parameter"].set_param(
    "web.base.url", os.environ.get("DEMO_BASE_URL", "http://localhost:8069")
)

simulator_urls = {
    # Saved cards on: a signed-in shopper can tick "save my card" (Oneclick Mall).
    "webpay": {
        "webpay_test_api_url": f"http://127.0.0.1:{DEMO_PORTS['webpay']}",
        "allow_tokenization": True,
    },
    "etpay": {
        "etpay_test_api_url": f"http://127.0.0.1:{DEMO_PORTS['etpay']}",
        "etpay_test_payment_page_url": f"http://127.0.0.1:{DEMO_PORTS['etpay']}",
        "etpay_test_merchant_code": "cl_sandbox_tienda_demo",
        "etpay_test_api_token": "demo-token-for-the-local-simulator-only",
    },
    # The bank is played from this machine (python -m simulators.bancoestado_client).
    "cajavecina": {"cajavecina_allowed_ips": "127.0.0.1, ::1"},
    "unicomer": {
        "unicomer_test_api_url": f"http://127.0.0.1:{DEMO_PORTS['unicomer']}/",
        "unicomer_test_username": "recaudador.demo",
        "unicomer_test_password": "demo-password-for-the-local-simulator-only",
        "unicomer_test_idcommerce": "DEMO01",
        "unicomer_default_locality": "MATRIZ CUENCA",
    },
}
# Webpay's SOAP API (the provider's "Webpay API" switch) against its own simulator: the
# keys are generated for the demo and shared with the simulator process.
pki_directory = os.environ.get("PAYMENT_LATAM_DEMO_PKI")
if pki_directory:
    pki = demo_pki.load_or_create(pki_directory)
    simulator_urls["webpay"].update(
        {
            "webpay_test_soap_private_key": base64.b64encode(pki["merchant"][0]),
            "webpay_test_soap_certificate": base64.b64encode(pki["merchant"][1]),
            "webpay_test_soap_transbank_certificate": base64.b64encode(pki["transbank"][1]),
        }
    )
    if env.ref("payment_latam.payment_provider_webpay").webpay_api == "soap":
        simulator_urls["webpay"]["webpay_test_api_url"] = (
            f"http://127.0.0.1:{DEMO_PORTS['webpay_soap']}"
        )

for code, values in simulator_urls.items():
    provider = env.ref(f"payment_latam.payment_provider_{code}")
    # Unicomer is a back-office collection channel: never offered to shoppers.
    provider.write({**values, "state": "test", "is_published": code != "unicomer"})

# Unicomer collects in US dollars (Ecuador); a cashier needs the currency active.
env.ref("base.USD").active = True

clp = env.ref("base.CLP")
products = [
    ("LATAM-POLERA", "Polera de algodón orgánico", 12990),
    ("LATAM-MOCHILA", "Mochila urbana impermeable", 34990),
    ("LATAM-TERMO", "Termo de acero 1 L", 15990),
]
for default_code, name, price in products:
    product = env["product.template"].search([("default_code", "=", default_code)], limit=1)
    values = {"name": name, "list_price": price, "is_published": True, "sale_ok": True}
    if product:
        product.write(values)
    else:
        env["product.template"].create({**values, "default_code": default_code, "type": "consu"})

# The demo portal shopper lives in Chile, where the three Chilean channels are offered.
portal_partner = env.ref("base.partner_demo_portal", raise_if_not_found=False)
if portal_partner:
    portal_partner.write(
        {"country_id": env.ref("base.cl").id, "vat": "11111111-1", "city": "Santiago"}
    )

# Shoppers, cashiers and accountants read Chilean Spanish.
spanish = env["res.lang"]._activate_lang("es_CL")
for website in env["website"].search([]):
    website.write({"language_ids": [(4, spanish.id)], "default_lang_id": spanish.id})
(env.ref("base.user_admin").partner_id | (portal_partner or env["res.partner"])).write(
    {"lang": "es_CL"}
)

env.cr.commit()
print(
    "demo shop configured:",
    env.company.name,
    env.company.currency_id.name,
    [
        (p.code, p.state)
        for p in env["payment.provider"].search([("code", "in", list(simulator_urls))])
    ],
)
