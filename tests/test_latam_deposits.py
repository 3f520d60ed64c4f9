from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon


@tagged("post_install", "-at_install", "payment_latam")
class TestLatamDeposits(PaymentHttpCommon, PaymentLatamCommon):
    """A channel's day of payments against the bank statement line of its deposit.

    An HttpCase: the daily cron's commits stay inside the test's transaction."""

    def setUp(self):
        self.enable_post_process_patcher = False  # payments are booked for real
        super().setUp()
        self.Deposit = self.env["payment.latam.deposit"]
        self.company = self.env.company
        self.money = self.company.currency_id
        self.today = fields.Date.context_today(self.webpay)
        self.bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1
        )
        self.fee_account = self.env["account.account"].search(
            [("account_type", "=", "expense"), ("company_ids", "in", self.company.id)], limit=1
        )
        (self.webpay | self.etpay).state = "test"  # an active provider posts to its journal
        self.webpay.write(
            {
                "latam_deposit_label": "TRANSBANK",
                "latam_deposit_max_fee": 3.0,
                "latam_deposit_fee_account_id": self.fee_account.id,
            }
        )
        self.paid = self._paid(self.webpay, "DEP-WP-1", 10000) | self._paid(
            self.webpay, "DEP-WP-2", 5000
        )

    def _paid(self, provider, reference, amount):
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": provider.payment_method_ids[:1].id,
                "partner_id": self.partner.id,
                "currency_id": self.money.id,
                "amount": amount,
                "reference": reference,
                "operation": "offline" if provider.code == "unicomer" else "online_redirect",
            }
        )
        tx._set_done()
        tx._post_process()
        self.assertTrue(tx.payment_id, "a done transaction is booked as an account.payment")
        return tx

    def _statement_line(self, amount, label="ABONO TRANSBANK 7731", days_after=1):
        return self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.bank.id,
                "date": self.today + timedelta(days=days_after),
                "payment_ref": label,
                "amount": amount,
            }
        )

    def _outstanding(self, tx):
        liquidity, _counterpart, _writeoff = tx.payment_id._seek_for_lines()
        return liquidity

    # === Gathering === #

    def test_the_day_adds_up_its_posted_payments(self):
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        self.assertEqual(deposit.payment_ids, self.paid.payment_id)
        self.assertEqual(deposit.payment_count, 2)
        self.assertEqual(deposit.expected_amount, 15000)
        self.assertEqual(deposit.state, "open")
        self.assertEqual(
            self.Deposit._latam_gather(self.webpay, self.today), deposit, "one per day"
        )

    def test_a_refund_of_the_day_is_deducted(self):
        tx = self.paid[0]
        refund = tx._create_child_transaction(4000, is_refund=True)
        refund._set_done()
        refund._post_process()
        self.assertEqual(refund.payment_id.payment_type, "outbound")
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        self.assertEqual(deposit.expected_amount, 11000)

    def test_a_day_without_payments_has_no_deposit(self):
        self.assertFalse(self.Deposit._latam_gather(self.etpay, self.today))

    def test_gathering_again_adds_a_late_payment_but_never_touches_a_closed_day(self):
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        late = self._paid(self.webpay, "DEP-WP-3", 2000)
        deposit.action_gather()
        self.assertEqual(deposit.expected_amount, 17000)
        self.assertIn(late.payment_id, deposit.payment_ids)

        deposit.statement_line_id = self._statement_line(17000)
        deposit.action_reconcile()
        self._paid(self.webpay, "DEP-WP-4", 999)
        deposit.action_gather()
        self.assertEqual(deposit.state, "closed")
        self.assertEqual(deposit.expected_amount, 17000, "a closed day stays as it was booked")

    def test_a_payment_already_matched_with_the_bank_is_no_longer_awaited(self):
        elsewhere = self._statement_line(5000, label="PAGO DIRECTO")
        Deposit = self.Deposit
        other_day = Deposit.with_context(latam_deposit_gathering=True).create(
            {"provider_id": self.etpay.id, "date": self.today, "expected_amount": 5000}
        )
        other_day.with_context(latam_deposit_gathering=True).write(
            {"payment_ids": [(6, 0, self.paid[1].payment_id.ids)]}
        )
        other_day.statement_line_id = elsewhere
        other_day._latam_book()
        deposit = Deposit._latam_gather(self.webpay, self.today)
        self.assertEqual(deposit.payment_ids, self.paid[0].payment_id)
        self.assertEqual(deposit.expected_amount, 10000)

    def test_the_day_s_payments_are_not_typed_in(self):
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        with self.assertRaisesRegex(UserError, "read from the books"):
            deposit.expected_amount = 1

    # === Matching === #

    def test_the_deposit_net_of_commission_is_found_by_label_and_amount(self):
        self._statement_line(14500, label="ABONO OTRO BANCO")  # another payer, same amount
        self._statement_line(14000)  # more than 3% short: not this deposit
        line = self._statement_line(14565)  # 2.9% commission
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.action_match()
        self.assertEqual(deposit.statement_line_id, line)
        self.assertEqual(deposit.state, "matched")
        self.assertEqual(deposit.deposit_amount, 14565)
        self.assertEqual(deposit.fee_amount, 435)

    def test_a_deposit_too_late_or_before_the_day_is_not_this_day(self):
        self._statement_line(15000, days_after=4)  # the provider allows 3 days
        self._statement_line(15000, days_after=-1)
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.action_match()
        self.assertEqual(deposit.state, "open")
        self.assertEqual(deposit.matching_note, "No bank statement line matches yet.")

    def test_two_possible_deposits_are_left_to_a_person(self):
        self._statement_line(15000)
        self._statement_line(14900)
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.action_match()
        self.assertEqual(deposit.state, "open")
        self.assertIn("2 bank statement lines", deposit.matching_note)

    def test_without_a_label_references_do_not_allow_matching(self):
        self.webpay.latam_deposit_label = False
        self._statement_line(15000)
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.action_match()
        self.assertEqual(deposit.state, "open")
        self.assertIn("by hand", deposit.matching_note)

    def test_a_statement_line_is_the_deposit_of_one_day_only(self):
        line = self._statement_line(15000)
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.action_match()
        self.assertEqual(deposit.statement_line_id, line)
        other = self.Deposit.create(
            {"provider_id": self.etpay.id, "date": self.today, "expected_amount": 15000}
        )
        self.etpay.latam_deposit_label = "TRANSBANK"
        other.action_match()
        self.assertFalse(other.statement_line_id, "the line is already this Webpay day's deposit")

    # === Reconciling closes the day === #

    def test_reconciling_books_the_commission_and_closes_the_day(self):
        line = self._statement_line(14565)
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.action_match()
        deposit.action_reconcile()

        self.assertEqual(deposit.state, "closed")
        self.assertTrue(line.is_reconciled)
        for tx in self.paid:
            self.assertTrue(self._outstanding(tx).reconciled, tx.reference)
        fee_line = line.move_id.line_ids.filtered(
            lambda move_line: move_line.account_id == self.fee_account
        )
        self.assertEqual(fee_line.balance, 435)
        self.assertEqual(sum(line.move_id.line_ids.mapped("balance")), 0)
        self.assertIn("Reconciled with", deposit.message_ids[:1].body)
        with self.assertRaises(UserError):
            deposit.action_unmatch()
        with self.assertRaises(UserError):
            deposit.action_reconcile()

    def test_an_exact_deposit_needs_no_fee_account(self):
        self.webpay.latam_deposit_fee_account_id = False
        line = self._statement_line(15000)
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.action_match()
        deposit.action_reconcile()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(deposit.fee_amount, 0)

    def test_a_commission_without_fee_account_changes_nothing(self):
        self.webpay.latam_deposit_fee_account_id = False
        line = self._statement_line(14565)
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.action_match()
        with self.assertRaisesRegex(UserError, "fee account"):
            deposit.action_reconcile()
        self.assertFalse(line.is_reconciled)
        self.assertEqual(deposit.state, "matched")
        self.assertFalse(self._outstanding(self.paid[0]).reconciled)

    def test_payments_changed_since_gathering_must_be_gathered_again(self):
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.statement_line_id = self._statement_line(15000)
        self.paid[1].payment_id.action_draft()
        self.paid[1].payment_id.action_cancel()
        with self.assertRaisesRegex(UserError, "Read Payments Again"):
            deposit.action_reconcile()
        self.assertFalse(deposit.statement_line_id.is_reconciled)

    def test_a_line_chosen_by_hand_must_be_this_day_s_money(self):
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        for amount in (9000, 15500):  # 40 % short; more than the payments
            deposit.statement_line_id = self._statement_line(amount, label="OTRO ABONO")
            with self.assertRaisesRegex(UserError, "not this day's deposit"):
                deposit.action_reconcile()
            self.assertFalse(deposit.statement_line_id.is_reconciled)

    def test_a_deposit_reconciled_by_other_means_closes_the_day(self):
        line = self._statement_line(15000)
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        deposit.statement_line_id = line
        deposit._latam_book()  # as if the accountant had reconciled it elsewhere
        deposit.invalidate_recordset(["state"])
        self.assertEqual(deposit.state, "closed")

    # === The daily run and access === #

    def test_the_daily_run_gathers_yesterday_and_finds_the_deposit(self):
        line = self._statement_line(15000, days_after=1)
        with freeze_time(self.today + timedelta(days=1, hours=8)):
            self.env.ref("payment_latam.cron_latam_deposits_daily").method_direct_trigger()
        deposit = self.Deposit.search([("provider_id", "=", self.webpay.id)])
        self.assertEqual(deposit.date, self.today, "the payments' day, yesterday for the cron")
        self.assertEqual(deposit.statement_line_id, line)
        self.assertEqual(deposit.state, "matched")

    def test_cashiers_see_no_deposits_and_auditors_only_read(self):
        deposit = self.Deposit._latam_gather(self.webpay, self.today)
        cashier = new_test_user(
            self.env,
            login="latam_deposit_cashier",
            groups="base.group_user,payment_latam.group_unicomer_cashier",
        )
        auditor = new_test_user(
            self.env,
            login="latam_deposit_auditor",
            groups="base.group_user,account.group_account_readonly",
        )
        with self.assertRaises(AccessError):
            deposit.with_user(cashier).read(["expected_amount"])
        self.assertEqual(deposit.with_user(auditor).expected_amount, 15000)
        with self.assertRaises(AccessError):
            deposit.with_user(auditor).action_match()
