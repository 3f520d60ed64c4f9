from lxml import etree

from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon

RECEIPT = "payment_latam.action_report_unicomer_receipt"


@tagged("post_install", "-at_install", "payment_latam")
class TestUnicomerScreens(PaymentHttpCommon, PaymentLatamCommon):
    """An HttpCase: wkhtmltopdf fetches the report's assets from the test server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cashier = new_test_user(
            cls.env,
            login="unicomer_cashier",
            name="Carla Cajera",
            groups="base.group_user,payment_latam.group_unicomer_cashier",
        )
        cls.manager = new_test_user(
            cls.env,
            login="unicomer_manager",
            name="Mario Gerente",
            groups="base.group_user,payment_latam.group_unicomer_manager",
        )
        cls.collection = (
            cls.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": cls.unicomer.id,
                    "payment_method_id": cls.unicomer.payment_method_ids[:1].id,
                    "partner_id": cls.partner.id,
                    "currency_id": cls.currency_usd.id,
                    "amount": 25.5,
                    "reference": "UC00000001",
                    "provider_reference": "3455",
                    "operation": "offline",
                    "unicomer_environment": "test",
                    "unicomer_status": "registered",
                    "unicomer_credit_id": "987654",
                    "unicomer_credit_label": "001-002-000123456",
                    "unicomer_item": "REFRIGERADORA LG 14 PIES",
                    "unicomer_customer_vat": "1710034065",
                    "unicomer_customer_name": "María Pérez",
                    "unicomer_processed_at": "2024-05-10 10:15:00.000",
                    "unicomer_locality": "Quito Norte 3",
                    "unicomer_cashier_id": cls.cashier.id,
                    "unicomer_commission_rate": 1.5,
                }
            )
        )

    def _render_receipt(self, user=None):
        reports = self.env["ir.actions.report"]
        if user:
            reports = reports.with_user(user)
        html, kind = reports._render_qweb_html(RECEIPT, self.collection.ids)
        self.assertEqual(kind, "html")
        return html.decode()

    # === THE RECEIPT === #

    def test_receipt_shows_what_the_customer_paid_and_to_whom(self):
        html = self._render_receipt(user=self.cashier)
        for expected in (
            "UC00000001",  # num_recibo
            "3455",  # idtrx
            "Carla Cajera",
            "Quito Norte 3",
            "25.50",
            "001-002-000123456",
            "REFRIGERADORA LG 14 PIES",
            "María Pérez",
            "1710034065",
            "2024-05-10 10:15:00",
            self.collection.company_id.name,
        ):
            self.assertIn(expected, html)
        self.assertNotIn("REVERSED", html)
        self.assertNotIn("NOT CONFIRMED", html)

    def test_receipt_of_a_reversed_collection_says_so(self):
        self.collection.unicomer_status = "reversed"
        self.assertIn("REVERSED", self._render_receipt())

    def test_receipt_of_an_unconfirmed_collection_says_so(self):
        self.collection.unicomer_status = "unknown"
        self.assertIn("NOT CONFIRMED BY UNICOMER", self._render_receipt())

    def test_receipt_prints_as_pdf(self):
        reports = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        pdf, kind = reports._render_qweb_pdf(RECEIPT, self.collection.ids)
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))

    def test_print_button_opens_the_receipt(self):
        action = self.collection.with_user(self.cashier).action_unicomer_print_receipt()
        self.assertEqual(action["report_name"], "payment_latam.report_unicomer_receipt")
        self.assertEqual(action["report_type"], "qweb-pdf")
        report = self.env.ref(RECEIPT)
        self.assertEqual(report.paperformat_id.page_width, 80, "a receipt is roll-wide")
        self.assertEqual(report.print_report_name, "'Recibo %s' % object.reference")

    # === THE SCREENS === #

    def _arch(self, model, view_type, view_ref=False, user=None):
        records = self.env[model].with_user(user or self.cashier)
        views = records.get_views([(view_ref and self.env.ref(view_ref).id, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_the_cashier_screens_load_for_a_cashier(self):
        counter = self._arch("payment.unicomer.cashier", "form")
        for button in (
            "action_search",
            "action_collect",
            "action_print_receipt",
            "action_reverse",
            "action_refresh",
            "action_new",
        ):
            self.assertTrue(counter.xpath(f"//button[@name='{button}']"), button)
        choose = counter.xpath("//field[@name='credit_line_ids']//button[@name='action_select']")
        self.assertTrue(choose)
        reverse = counter.xpath("//button[@name='action_reverse']")[0]
        self.assertIn("transaction_unicomer_status != 'registered'", reverse.get("invisible"))
        self.assertTrue(counter.xpath("//button[@name='action_collect']")[0].get("confirm"))

        for view_type, view_ref in (
            ("list", "payment_latam.unicomer_collection_list"),
            ("search", "payment_latam.unicomer_collection_search"),
            ("form", "payment.payment_transaction_form"),
        ):
            self._arch("payment.transaction", view_type, view_ref)
        for view_type in ("list", "form", "search"):
            self._arch("payment.unicomer.exchange", view_type, user=self.manager)

    def test_the_cashier_opens_a_counter(self):
        action = self.env.ref("payment_latam.action_unicomer_cashier")
        self.assertEqual(
            (action.res_model, action.view_mode, action.target),
            ("payment.unicomer.cashier", "form", "current"),
        )
        counter = (
            self.env["payment.unicomer.cashier"]
            .with_user(self.cashier)
            .create({"provider_id": self.unicomer.id, "locality": "Quito Norte 3"})
        )
        self.assertEqual(counter.step, "search")

    def test_collections_actions(self):
        collections = self.env.ref("payment_latam.action_unicomer_collections")
        transactions = self.env["payment.transaction"].with_user(self.cashier)
        found = transactions.search(safe_eval(collections.domain))
        self.assertIn(self.collection, found)
        exceptions = self.env.ref("payment_latam.action_unicomer_exceptions")
        self.assertNotIn(self.collection, transactions.search(safe_eval(exceptions.domain)))
        self.collection.unicomer_status = "zombie"
        self.assertIn(self.collection, transactions.search(safe_eval(exceptions.domain)))
        self.collection.write({"unicomer_status": "synchronized", "unicomer_needs_review": True})
        self.assertIn(self.collection, transactions.search(safe_eval(exceptions.domain)))

    def test_a_cashier_reads_unicomer_collections_only(self):
        webpay_tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": self.webpay.id,
                    "payment_method_id": self.webpay.payment_method_ids[:1].id,
                    "partner_id": self.partner.id,
                    "currency_id": self.currency_clp.id,
                    "amount": 15990,
                    "reference": "WP-NOT-FOR-CASHIERS",
                }
            )
        )
        seen = self.env["payment.transaction"].with_user(self.cashier).search([])
        self.assertIn(self.collection, seen)
        self.assertNotIn(webpay_tx, seen)
        self.assertEqual(set(seen.mapped("provider_code")), {"unicomer"})
        self.assertIn(webpay_tx, self.env["payment.transaction"].search([]), "admins see all")

    def test_menus_follow_the_groups(self):
        def visible(user):
            menus = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            return {
                xmlid
                for xmlid in (
                    "menu_unicomer_root",
                    "menu_unicomer_collect",
                    "menu_unicomer_collections",
                    "menu_unicomer_exceptions",
                    "menu_unicomer_exchanges",
                )
                if self.env.ref(f"payment_latam.{xmlid}").id in menus
            }

        self.assertEqual(
            visible(self.cashier),
            {"menu_unicomer_root", "menu_unicomer_collect", "menu_unicomer_collections"},
        )
        self.assertEqual(len(visible(self.manager)), 5)
        clerk = new_test_user(self.env, login="clerk", groups="base.group_user")
        self.assertFalse(visible(clerk))

    def test_users_have_a_collection_point(self):
        form = self._arch("res.users", "form", "base.view_users_form", user=self.env.user)
        self.assertTrue(form.xpath("//field[@name='unicomer_locality']"))

    def test_provider_form_has_the_unicomer_settings(self):
        form = self._arch(
            "payment.provider", "form", "payment.payment_provider_form", user=self.env.user
        )
        for name in (
            "unicomer_partner_id",
            "unicomer_payable_account_id",
            "unicomer_commission_account_id",
            "unicomer_default_locality",
            "unicomer_log_retention_days",
            "unicomer_login_path",
            "unicomer_account_statement_path",
            "unicomer_register_path",
            "unicomer_reverse_path",
            "unicomer_status_path",
            "unicomer_conciliation_path",
        ):
            self.assertTrue(form.xpath(f"//field[@name='{name}']"), name)

    # === THE STANDARD TRANSACTION FORM === #

    def test_standard_capture_and_void_are_hidden_for_unicomer(self):
        """Capturing or voiding a collection goes through Unicomer's own buttons, which
        re-ask Unicomer first; the standard ones stay for every other provider."""
        form = self._arch("payment.transaction", "form", "payment.payment_transaction_form")
        self.assertTrue(form.xpath("//field[@name='provider_code']"))
        for name in ("action_capture", "action_void"):
            invisible = form.xpath(f"//header/button[@name='{name}']")[0].get("invisible")
            self.assertIn("unicomer", invisible)
            self.assertTrue(
                safe_eval(invisible, {"state": "authorized", "provider_code": "unicomer"})
            )
            self.assertFalse(
                safe_eval(invisible, {"state": "authorized", "provider_code": "webpay"})
            )
            self.assertTrue(safe_eval(invisible, {"state": "done", "provider_code": "webpay"}))

    def test_unicomer_buttons_on_the_transaction(self):
        cashier_form = self._arch("payment.transaction", "form", "payment.payment_transaction_form")
        reverse = cashier_form.xpath("//button[@name='action_unicomer_reverse']")[0]
        self.assertTrue(reverse.get("confirm"))
        values = {
            "provider_code": "unicomer",
            "unicomer_status": "registered",
            "state": "authorized",
        }
        self.assertFalse(safe_eval(reverse.get("invisible"), values))
        self.assertTrue(
            safe_eval(reverse.get("invisible"), dict(values, unicomer_status="synchronized"))
        )
        self.assertTrue(safe_eval(reverse.get("invisible"), dict(values, state="done")))
        self.assertTrue(cashier_form.xpath("//button[@name='action_unicomer_refresh']"))
        self.assertTrue(cashier_form.xpath("//button[@name='action_unicomer_print_receipt']"))
        self.assertFalse(cashier_form.xpath("//button[@name='action_unicomer_mark_reviewed']"))
        manager_form = self._arch(
            "payment.transaction", "form", "payment.payment_transaction_form", user=self.manager
        )
        self.assertTrue(manager_form.xpath("//button[@name='action_unicomer_mark_reviewed']"))
