from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.payment_latam.gateways import etpay_const, unicomer_const, webpay_const
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon


@tagged("post_install", "-at_install", "payment_latam")
class TestProviderRecords(PaymentLatamCommon):
    def test_providers_are_registered_as_installed_by_this_module(self):
        module = self.env.ref("base.module_payment_latam")
        for code, provider in self.latam_providers.items():
            self.assertEqual(provider.code, code)
            self.assertEqual(provider.module_id, module)
            self.assertEqual(provider.module_state, "installed")
            self.assertEqual(provider.state, "disabled", "a fresh install takes no payment")
            self.assertTrue(provider.image_128)

    def test_each_channel_has_its_own_payment_method(self):
        expected = {
            "webpay": "webpay",
            "etpay": "etpay",
            "cajavecina": "cajavecina",
            "unicomer": "unicomer",
        }
        for code, method_code in expected.items():
            methods = self.latam_providers[code].payment_method_ids
            self.assertEqual(methods.mapped("code"), [method_code])
            self.assertEqual(methods.provider_ids, self.latam_providers[code])
            self.assertTrue(methods.image)
        brands = self.env.ref("payment_latam.payment_method_webpay").brand_ids
        self.assertIn("webpay_redcompra", brands.mapped("code"))
        self.assertLessEqual({"webpay_visa", "webpay_mastercard"}, set(brands.mapped("code")))

    def test_supported_currencies(self):
        for code in ("webpay", "etpay", "cajavecina"):
            self.assertEqual(
                self.latam_providers[code].available_currency_ids.mapped("name"), ["CLP"]
            )
        self.assertEqual(self.unicomer.available_currency_ids.mapped("name"), ["USD"])

    def test_account_payment_methods_exist_for_every_code(self):
        """setup_provider() ran for each code: journals can take these payments."""
        for code in self.latam_providers:
            method = self.env["account.payment.method"].search(
                [("code", "=", code), ("payment_type", "=", "inbound")]
            )
            self.assertEqual(len(method), 1, code)

    def test_documented_hosts_and_integration_credentials_are_the_defaults(self):
        webpay = self.webpay.sudo()
        self.assertEqual(webpay.webpay_test_api_url, webpay_const.INTEGRATION_API_URL)
        self.assertEqual(webpay.webpay_prod_api_url, webpay_const.PRODUCTION_API_URL)
        self.assertEqual(webpay.webpay_test_commerce_code, webpay_const.INTEGRATION_COMMERCE_CODE)
        self.assertFalse(webpay.webpay_prod_commerce_code)
        self.assertEqual(self.etpay.etpay_test_api_url, etpay_const.SANDBOX_API_URL)
        self.assertFalse(self.etpay.etpay_prod_api_url, "ETpay has no public production host")
        self.assertEqual(self.unicomer.unicomer_prod_api_url, unicomer_const.PRODUCTION_API_URL)

    def test_settings_follow_the_provider_state(self):
        self.webpay.write({"state": "test", "webpay_prod_commerce_code": "597012345678"})
        self.assertEqual(
            self.webpay._latam_setting("commerce_code"), webpay_const.INTEGRATION_COMMERCE_CODE
        )
        self.webpay.write({"webpay_prod_api_key": "merchant-secret", "state": "enabled"})
        self.assertEqual(self.webpay._latam_setting("commerce_code"), "597012345678")
        self.assertEqual(self.webpay._latam_setting("api_url"), webpay_const.PRODUCTION_API_URL)

    def test_going_live_needs_the_merchants_production_settings(self):
        with self.assertRaisesRegex(ValidationError, "Commerce Code"):
            self.webpay.state = "enabled"
        with self.assertRaisesRegex(ValidationError, "ETpay Production API URL"):
            self.etpay.write(
                {
                    "state": "enabled",
                    "etpay_prod_merchant_code": "cl_shop",
                    "etpay_prod_api_token": "t" * 64,
                }
            )
        with self.assertRaisesRegex(ValidationError, "Unicomer Production Password"):
            self.unicomer.write(
                {"state": "enabled", "unicomer_prod_username": "u", "unicomer_prod_idcommerce": "X"}
            )
        # Caja Vecina has no gateway credentials (the bank calls us), but must know who
        # may call: an address allowlist or an HTTP Basic user.
        with self.assertRaisesRegex(ValidationError, "allowed caller addresses"):
            self.cajavecina.state = "enabled"
        self.cajavecina.write({"state": "enabled", "cajavecina_allowed_ips": "200.14.0.0/16"})
        self.assertEqual(self.cajavecina.state, "enabled")

    def test_chilean_channels_are_offered_for_clp_and_unicomer_for_usd(self):
        for provider in self.latam_providers.values():
            provider.write({"state": "test", "is_published": True})
        clp_providers = self.env["payment.provider"]._get_compatible_providers(
            self.company.id, self.partner.id, self.amount, currency_id=self.currency_clp.id
        )
        self.assertLessEqual(self.webpay | self.etpay | self.cajavecina, clp_providers)
        self.assertNotIn(self.unicomer, clp_providers)

        self.partner.country_id = self.ecuador
        usd_providers = self.env["payment.provider"]._get_compatible_providers(
            self.company.id, self.partner.id, 120.5, currency_id=self.currency_usd.id
        )
        self.assertIn(self.unicomer, usd_providers)
        self.assertFalse((self.webpay | self.etpay | self.cajavecina) & usd_providers)

    def test_enabling_activates_the_channel_methods(self):
        method = self.env.ref("payment_latam.payment_method_etpay")
        method.active = False
        self.etpay.state = "test"
        self.assertTrue(method.active)
