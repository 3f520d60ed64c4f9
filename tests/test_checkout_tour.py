from odoo.tests import tagged

from odoo.addons.payment_latam.tests.shop_common import ChileanShopCase


@tagged("post_install", "-at_install", "payment_latam", "tour")
class TestCheckoutTour(ChileanShopCase):
    """The shop, in a real headless Chromium: a CLP order offers the Chilean channels."""

    def test_chilean_shopper_is_offered_the_chilean_channels(self):
        self.start_tour("/shop", "payment_latam_checkout_offers_chilean_channels")
