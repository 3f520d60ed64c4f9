# Named to run last: it really uninstalls the addon, checks what is left,
# then installs it again so the database ends as it started.
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, common, tagged

PROVIDER_XMLIDS = ("payment_provider_webpay", "payment_provider_cajavecina")


@tagged("post_install", "-at_install", "payment_latam", "uninstall")
class TestUninstallAndReinstall(BaseCase):
    def _env(self):
        registry = Registry(common.get_db_name())
        return registry, registry.cursor()

    def _module_action(self, action):
        registry, cr = self._env()
        with cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            module = env["ir.module.module"].search([("name", "=", "payment_latam")])
            getattr(module, action)()
        new_registry = Registry.new(common.get_db_name(), update_module=True)
        # Odoo prints the run's result from the current registry: hand it the
        # report the earlier tests wrote to, or the run would claim 0 tests.
        new_registry._assertion_report = registry._assertion_report

    def _column_exists(self, cr, column):
        cr.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'payment_provider' AND column_name = %s",
            [column],
        )
        return bool(cr.fetchone())

    def test_uninstall_then_reinstall(self):
        self._module_action("button_uninstall")
        _registry, cr = self._env()
        with cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            module = env["ir.module.module"].search([("name", "=", "payment_latam")])
            self.assertEqual(module.state, "uninstalled")
            self.assertFalse(env["ir.model.data"].search([("module", "=", "payment_latam")]))
            self.assertFalse(self._column_exists(cr, "webpay_prod_api_key"))
            self.assertFalse(
                env["account.payment.method"].search([("code", "in", ("webpay", "etpay"))])
            )
            self.assertFalse(
                env["payment.method"]
                .with_context(active_test=False)
                .search([("code", "in", ("webpay", "cajavecina"))])
            )

        self._module_action("button_install")
        _registry, cr = self._env()
        with cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for xmlid in PROVIDER_XMLIDS:
                provider = env.ref(f"payment_latam.{xmlid}")
                self.assertEqual(provider.code, xmlid.removeprefix("payment_provider_"))
            self.assertTrue(self._column_exists(cr, "webpay_prod_api_key"))
            self.assertEqual(
                env["account.payment.method"].search([("code", "=", "webpay")]).payment_type,
                "inbound",
                "setup_provider() made the journal's payment method again",
            )
