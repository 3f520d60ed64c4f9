from odoo.tests import HttpCase

from odoo.addons.payment_latam.gateways.codes import PROVIDER_CODES


class ChileanShopCase(HttpCase):
    """The website shop selling in CLP, the four providers in test mode and published."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        clp = cls.env.ref("base.CLP")
        clp.active = True
        # The shop sells in CLP: the only pricelist the website offers is in pesos.
        cls.env["product.pricelist"].search([]).action_archive()
        cls.env["product.pricelist"].create(
            {
                "name": "Chile",
                "currency_id": clp.id,
                "website_id": cls.env["website"].get_current_website().id,
                "selectable": True,
            }
        )
        cls.env["product.template"].create(
            {"name": "Polera LatAm", "list_price": 12990, "is_published": True, "sale_ok": True}
        )
        cls.latam_providers = {
            code: cls.env.ref(f"payment_latam.payment_provider_{code}") for code in PROVIDER_CODES
        }
        for provider in cls.latam_providers.values():
            provider.write({"state": "test", "is_published": True})
