from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon

RECONCILIATION_MODELS = (
    "payment.latam.reconciliation",
    "payment.latam.reconciliation.line",
    "payment.latam.reconciliation.exception",
)
WORKSPACE_MENUS = (
    "payment_latam.menu_latam_root",
    "payment_latam.menu_latam_reconciliation",
    "payment_latam.menu_latam_reconciliation_runs",
    "payment_latam.menu_latam_reconciliation_exceptions",
    "payment_latam.menu_latam_reconciliation_lines",
)
DAY1 = datetime(2024, 5, 10, 15, 0)
DAY2 = datetime(2024, 5, 11, 9, 30)


@tagged("post_install", "-at_install", "payment_latam")
class TestLatamReconciliationWorkspace(PaymentHttpCommon, PaymentLatamCommon):
    """An HttpCase: the registry is in test mode, so the daily run's per-provider
    commits stay inside the test's transaction, as in the other crons' tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="latam_recon_accountant",
            groups="base.group_user,account.group_account_invoice",
        )
        cls.auditor = new_test_user(
            cls.env,
            login="latam_recon_auditor",
            groups="base.group_user,account.group_account_readonly",
        )
        cls.cashier = new_test_user(
            cls.env,
            login="latam_recon_cashier",
            groups="base.group_user,payment_latam.group_unicomer_cashier",
        )
        Tx = cls.env["payment.transaction"].sudo()

        def tx(provider, reference, amount, state, moment, currency):
            return Tx.create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids[:1].id,
                    "partner_id": cls.partner.id,
                    "currency_id": currency.id,
                    "amount": amount,
                    "reference": reference,
                    "state": state,
                    "last_state_change": moment,
                    "operation": "offline" if provider.code == "unicomer" else "online_redirect",
                }
            )

        cls.txs = (
            tx(cls.webpay, "RECON-WP-1", 1000, "done", DAY1, cls.currency_clp)
            | tx(cls.webpay, "RECON-WP-2", 2500, "done", DAY2, cls.currency_clp)
            | tx(cls.webpay, "RECON-WP-3", 400, "cancel", DAY2, cls.currency_clp)
            | tx(cls.etpay, "RECON-ET-1", 7000, "done", DAY1, cls.currency_clp)
            | tx(cls.cajavecina, "RECON-CV-1", 15990, "pending", DAY2, cls.currency_clp)
            | tx(cls.unicomer, "RECON-UC-1", 25.5, "done", DAY1, cls.currency_usd)
        )
        cls.analysis = cls.env.ref("payment_latam.action_latam_transactions_analysis")

    # === Access rights === #

    def test_cashier_cannot_see_the_workspace(self):
        for model in RECONCILIATION_MODELS:
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.cashier).search([])
        visible = self.env["ir.ui.menu"].with_user(self.cashier)._visible_menu_ids()
        for xmlid in WORKSPACE_MENUS:
            self.assertNotIn(self.env.ref(xmlid).id, visible, xmlid)

    def test_accountant_sees_the_workspace(self):
        for model in RECONCILIATION_MODELS:
            self.env[model].with_user(self.accountant).search([])
        visible = self.env["ir.ui.menu"].with_user(self.accountant)._visible_menu_ids()
        for xmlid in WORKSPACE_MENUS:
            self.assertIn(self.env.ref(xmlid).id, visible, xmlid)

    def test_auditor_reads_everything_and_changes_nothing(self):
        for model in RECONCILIATION_MODELS:
            self.env[model].with_user(self.auditor).search([])
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.auditor).browse().check_access("write")
        self.env["payment.transaction"].with_user(self.auditor).search([], limit=1)
        with self.assertRaises(AccessError):
            self.env["payment.transaction"].with_user(self.auditor).browse().check_access("write")
        visible = self.env["ir.ui.menu"].with_user(self.auditor)._visible_menu_ids()
        for xmlid in WORKSPACE_MENUS:
            self.assertIn(self.env.ref(xmlid).id, visible, xmlid)

    # === Views === #

    def test_an_exception_is_resolved_only_with_its_text_and_author(self):
        exception = (
            self.env["payment.latam.reconciliation.exception"]
            .sudo()
            .create(
                {
                    "provider_id": self.env.ref("payment_latam.payment_provider_webpay").id,
                    "key": "WP-X",
                    "status": "amount_mismatch",
                }
            )
            .with_user(self.accountant)
        )
        exception.write({"note": "Asked Transbank", "user_id": self.accountant.id})
        with self.assertRaises(UserError):
            exception.write({"state": "resolved"})
        with self.assertRaises(UserError):
            exception.action_resolve()  # no resolution text yet
        exception.resolution = "Transbank confirmed the amount; Odoo is right."
        exception.action_resolve()
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(exception.resolved_by, self.accountant)
        self.assertTrue(exception.resolved_at)

    def test_views_load(self):
        Tx = self.env["payment.transaction"].with_user(self.accountant)
        views = [(view_id, mode) for view_id, mode in self.analysis.views]
        self.assertEqual([mode for _id, mode in views], ["list", "pivot", "graph", "form"])
        self.assertTrue(all(view_id for view_id, _mode in views))
        result = Tx.get_views([*views, (self.analysis.search_view_id.id, "search")])
        self.assertIn('sum="Total"', result["views"]["list"]["arch"])
        self.assertIn("latam_channel", result["views"]["pivot"]["arch"])
        self.assertIn("latam_date", result["views"]["graph"]["arch"])
        self.assertIn("filter_latam_date", result["views"]["search"]["arch"])
        # Odoo's own transaction views stay the default for every other menu.
        defaults = Tx.get_views([(False, "list"), (False, "search")])["views"]
        self.assertEqual(
            defaults["list"]["id"], self.env.ref("payment.payment_transaction_list").id
        )
        self.assertEqual(
            defaults["search"]["id"], self.env.ref("payment.payment_transaction_search").id
        )
        for model, modes in (
            ("payment.latam.reconciliation", ("list", "form", "search")),
            ("payment.latam.reconciliation.exception", ("list", "form", "search")),
            ("payment.latam.reconciliation.line", ("list", "pivot", "form", "search")),
        ):
            result = (
                self.env[model]
                .with_user(self.accountant)
                .get_views([(False, mode) for mode in modes])
            )
            for mode in modes:
                self.assertIn(mode, result["views"], f"{model} {mode}")
        self.assertFalse(
            self.env.ref("payment_latam.latam_reconciliation_exception_list").arch.count(
                'export_xlsx="0"'
            )
        )

    # === Analysis === #

    def _group(self, groupby):
        domain = [*safe_eval(self.analysis.domain), ("id", "in", self.txs.ids)]
        return (
            self.env["payment.transaction"]
            .with_user(self.accountant)
            .read_group(domain, ["amount:sum"], groupby, lazy=False)
        )

    def test_analysis_groups_and_sums(self):
        by_channel = {g["latam_channel"]: g["amount"] for g in self._group(["latam_channel"])}
        self.assertEqual(
            by_channel, {"webpay": 3900, "etpay": 7000, "cajavecina": 15990, "unicomer": 25.5}
        )
        by_state = {
            (g["latam_channel"], g["state"]): (g["amount"], g["__count"])
            for g in self._group(["latam_channel", "state"])
        }
        self.assertEqual(by_state[("webpay", "done")], (3500, 2))
        self.assertEqual(by_state[("webpay", "cancel")], (400, 1))
        self.assertEqual(by_state[("cajavecina", "pending")], (15990, 1))
        by_day = {g["latam_date:day"]: g["__count"] for g in self._group(["latam_date:day"])}
        self.assertEqual(sorted(by_day.values()), [3, 3])
        self.assertEqual(
            sorted(self.txs.mapped("latam_date")), [DAY1.date()] * 3 + [DAY2.date()] * 3
        )
        by_journal = self._group(["latam_journal_id"])
        self.assertEqual(sum(g["__count"] for g in by_journal), 6)
        for group in by_journal:
            journal = group["latam_journal_id"] and group["latam_journal_id"][0]
            expected = self.txs.filtered(lambda tx, j=journal: tx.payment_id.journal_id.id == j)
            self.assertEqual(group["amount"], sum(expected.mapped("amount")))
        (by_company,) = self._group(["company_id"])
        self.assertEqual(by_company["company_id"][0], self.env.company.id)
        self.assertAlmostEqual(by_company["amount"], 3900 + 7000 + 15990 + 25.5)
        # The action shows the four channels only.
        others = self.env["payment.transaction"].search(safe_eval(self.analysis.domain))
        self.assertTrue(all(others.mapped("latam_channel")))

    def test_filters_and_group_bys_are_indexed(self):
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'payment_transaction'"
        )
        definitions = [row[0] for row in self.env.cr.fetchall()]
        for column in ("latam_channel", "latam_date", "latam_journal_id"):
            self.assertTrue(any(f"({column})" in definition for definition in definitions), column)

    # === Daily run === #

    def _setup_failing_unicomer(self):
        self.env["payment.provider"].search(
            [("code", "in", ("webpay", "etpay", "cajavecina", "unicomer"))]
        ).write({"state": "disabled"})
        self.unicomer.write({"state": "test", "unicomer_test_api_url": "http://127.0.0.1:9"})

    def test_cron_records_failure_and_asks_once(self):
        self._setup_failing_unicomer()
        Run = self.env["payment.latam.reconciliation"]
        yesterday = fields.Date.today() - timedelta(days=1)
        Run._cron_run_yesterday()
        runs = Run.search([("date_from", "=", yesterday), ("date_to", "=", yesterday)])
        self.assertEqual(runs.provider_id, self.unicomer, "disabled providers are not checked")
        self.assertEqual(runs.state, "failed")
        self.assertTrue(runs.message)
        todo = self.env.ref("mail.mail_activity_data_todo")
        self.assertEqual(len(runs.activity_ids), 1)
        activity = runs.activity_ids
        self.assertEqual(activity.activity_type_id, todo)
        self.assertIn("Unicomer: 0 matched, 0 exceptions, 1 failed", str(activity.note))
        self.assertTrue(
            activity.user_id.has_group("account.group_account_manager")
            or activity.user_id == self.env.ref("base.user_admin")
        )

        Run._cron_run_yesterday()
        again = Run.search([("date_from", "=", yesterday), ("date_to", "=", yesterday)])
        self.assertEqual(again, runs, "the day's run is found again, not doubled")
        self.assertEqual(again.state, "failed")
        self.assertEqual(len(again.activity_ids), 1, "one open activity per run")

    def test_exceptions_are_summarised_for_the_accounting_team(self):
        day = fields.Date.today() - timedelta(days=1)
        Run = self.env["payment.latam.reconciliation"]
        run = Run.create({"provider_id": self.webpay.id, "date_from": day, "date_to": day})
        self.env["payment.latam.reconciliation.line"].create(
            [
                {"run_id": run.id, "key": "RECON-WP-1", "status": "matched"},
                {"run_id": run.id, "key": "RECON-WP-2", "status": "amount_mismatch"},
            ]
        )
        run.write({"state": "done"})
        quiet = Run.create({"provider_id": self.etpay.id, "date_from": day, "date_to": day})
        quiet.write({"state": "done"})
        (run | quiet)._latam_notify_accounting(day)
        self.assertFalse(quiet.activity_ids, "nothing to look at, nobody bothered")
        self.assertEqual(len(run.activity_ids), 1)
        self.assertIn("Webpay: 1 matched, 1 exceptions, 0 failed", str(run.activity_ids.note))
        self.assertIn("ETpay: 0 matched, 0 exceptions, 0 failed", str(run.activity_ids.note))
        self.assertNotIn("deposit", str(run.activity_ids.note))
        self.env["payment.latam.deposit"].create(
            {"provider_id": self.webpay.id, "date": day, "expected_amount": 1000}
        )
        (run | quiet)._latam_notify_accounting(day)
        self.assertEqual(len(run.activity_ids), 1)
        self.assertIn("Days whose deposit is not reconciled yet: 1", str(run.activity_ids.note))
