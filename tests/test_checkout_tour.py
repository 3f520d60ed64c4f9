from odoo.tests import HttpCase, tagged

from odoo.addons.payment_latam.gateways.codes import PROVIDER_CODES


@tagged("post_install", "-at_install", "payment_latam", "tour")
class TestCheckoutTour(HttpCase):
    """The shop, in a real headless Chromium: a CLP order offers the Chilean channels."""

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
        for code in PROVIDER_CODES:
            cls.env.ref(f"payment_latam.payment_provider_{code}").write(
                {"state": "test", "is_published": True}
            )

    def test_chilean_shopper_is_offered_the_chilean_channels(self):
        self.start_tour("/shop", "payment_latam_checkout_offers_chilean_channels")
