from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.payment_latam.tests.common import PaymentLatamCommon

# Every field holding a credential, per the provider model's groups.
CREDENTIAL_FIELDS = (
    "webpay_test_commerce_code",
    "webpay_test_api_key",
    "webpay_prod_commerce_code",
    "webpay_prod_api_key",
    "webpay_test_oneclick_commerce_code",
    "webpay_test_oneclick_store_code",
    "webpay_test_oneclick_api_key",
    "webpay_prod_oneclick_commerce_code",
    "webpay_prod_oneclick_store_code",
    "webpay_prod_oneclick_api_key",
    *(
        f"webpay_{environment}_soap_{name}{suffix}"
        for environment in ("test", "prod")
        for name in ("private_key", "certificate", "transbank_certificate")
        for suffix in ("", "_name")
    ),
    "etpay_test_merchant_code",
    "etpay_test_api_token",
    "etpay_prod_merchant_code",
    "etpay_prod_api_token",
    "cajavecina_basic_auth_user",
    "cajavecina_basic_auth_password",
    "cajavecina_path_secret",
    "cajavecina_allowed_ips",
    "cajavecina_trusted_proxies",
    "unicomer_test_username",
    "unicomer_test_password",
    "unicomer_test_idcommerce",
    "unicomer_prod_username",
    "unicomer_prod_password",
    "unicomer_prod_idcommerce",
)


@tagged("post_install", "-at_install", "payment_latam")
class TestCredentialsAccess(PaymentLatamCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env, login="latam_accountant", groups="account.group_account_manager"
        )

    def test_credential_fields_belong_to_system_administrators(self):
        provider_fields = self.env["payment.provider"]._fields
        for name in CREDENTIAL_FIELDS:
            self.assertEqual(provider_fields[name].groups, "base.group_system", name)
        secret_like = {
            name
            for name in provider_fields
            if name.split("_")[0] in self.latam_providers
            and any(word in name for word in ("key", "token", "password", "secret", "user"))
        }
        self.assertLessEqual(secret_like, set(CREDENTIAL_FIELDS))

    def test_accountant_reads_the_configuration_but_not_the_credentials(self):
        webpay = self.webpay.with_user(self.accountant)
        self.assertEqual(webpay.name, "Webpay")
        self.assertTrue(webpay.webpay_test_api_url)
        for name in CREDENTIAL_FIELDS:
            provider = self.latam_providers[name.split("_")[0]].with_user(self.accountant)
            with self.assertRaises(AccessError, msg=name):
                provider.read([name])
            with self.assertRaises(AccessError, msg=name):
                provider.write({name: "stolen"})

    def test_accountant_form_view_omits_credentials(self):
        arch = (
            self.env["payment.provider"]
            .with_user(self.accountant)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn("webpay_test_api_url", arch)
        for name in CREDENTIAL_FIELDS:
            self.assertNotIn(f'name="{name}"', arch)

    def test_portal_and_public_users_cannot_read_providers(self):
        for user in (self.portal_user, self.public_user):
            with self.assertRaises(AccessError):
                self.webpay.with_user(user).read(["name"])

    def test_system_administrator_manages_credentials(self):
        webpay = self.webpay.with_user(self.admin_user)
        webpay.write({"webpay_prod_api_key": "merchant-key"})
        self.assertEqual(webpay.webpay_prod_api_key, "merchant-key")
