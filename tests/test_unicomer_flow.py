import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.payment_latam.gateways import unicomer_api
from odoo.addons.payment_latam.gateways import unicomer_const as const
from odoo.addons.payment_latam.simulators.unicomer import (
    DEMO_CUSTOMERS,
    SANDBOX_PASSWORD,
    SYNC_DELAY,
)
from odoo.addons.payment_latam.tests.unicomer_common import CREDIT, CUSTOMER, UnicomerCommon

REGISTER = r"registrar"
CONSULT = r"consultarpago"
REVERSE = r"reversapago"


@tagged("post_install", "-at_install")
class TestUnicomerCollection(UnicomerCommon):
    """A collection from the counter to Unicomer's synchronization, reversal and booking."""

    def _synchronize(self, tx):
        """Unicomer's three minutes pass; Odoo's follow-up cron notices."""
        self.simulator.clock.advance(SYNC_DELAY + 1)
        self._age(tx, minutes=4)
        self.env["payment.transaction"]._cron_unicomer_follow_up()
        tx.invalidate_recordset()

    def test_collection_is_registered_with_the_frozen_body(self):
        tx = self._collect("50.00")
        self.assertEqual(tx.state, "authorized")
        self.assertEqual(tx.unicomer_status, "registered")
        [request] = self._register_requests()
        self.assertEqual(request.body.decode(), tx.unicomer_request_body)
        body = json.loads(request.body)
        self.assertEqual(body["secuencial"], CREDIT)
        self.assertEqual(body["num_recibo"], tx.reference)
        self.assertEqual(body["localidad_recauda"], "MATRIZ CUENCA")
        self.assertEqual(body["nombre_cajero"], self.env.user.name)
        self.assertRegex(body["fch_proceso"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000$")
        self.assertIn('"val_pagado": 50.00', request.body.decode())
        [payment] = self._sim_payments()
        self.assertEqual(tx.provider_reference, str(payment["idtrx"]))
        self.assertEqual(tx.currency_id.name, "USD")
        self.assertFalse(tx.payment_id, "a reversible collection is not booked yet")

    def test_synchronized_collection_is_booked_as_owed_to_unicomer(self):
        tx = self._collect("50.00")
        self._synchronize(tx)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.unicomer_status, "synchronized")
        tx._post_process()
        payment = tx.payment_id
        self.assertTrue(payment)
        self.assertEqual(payment.partner_id, self.provider.unicomer_partner_id)
        self.assertEqual(payment.destination_account_id, self.payable)
        self.assertEqual(payment.amount, 50.0)
        self.assertEqual(payment.state, "paid" if payment.state == "paid" else "in_process")
        credit_line = payment.move_id.line_ids.filtered(
            lambda line: line.account_id == self.payable
        )
        self.assertEqual(credit_line.credit, 50.0)
        self.assertFalse(
            tx.unicomer_commission_move_id, "no commission account, no commission entry"
        )

    def test_commission_is_recognised_when_configured(self):
        income = self.env["account.account"].search(
            [("account_type", "=", "income"), ("company_ids", "in", self.provider.company_id.id)],
            limit=1,
        )
        self.provider.unicomer_commission_account_id = income
        commissioned = next(
            (customer, credit)
            for customer in DEMO_CUSTOMERS
            for credit in (self._statement(customer).credits if customer != CUSTOMER else ())
            if credit.commission_rate
        )
        customer, credit = commissioned
        tx = self._collect("100.00", credit=credit, customer=customer)
        self._synchronize(tx)
        tx._post_process()
        self.assertEqual(tx.unicomer_commission_amount, float(credit.commission_rate))
        move = tx.unicomer_commission_move_id
        self.assertEqual(move.state, "posted")
        income_line = move.line_ids.filtered(lambda line: line.account_id == income)
        self.assertEqual(income_line.credit, float(credit.commission_rate))
        owed = move.line_ids.filtered(lambda line: line.account_id == self.payable)
        self.assertEqual(owed.debit, float(credit.commission_rate))

    def test_reversal_within_the_window(self):
        tx = self._collect("50.00")
        self.simulator.reset_log()
        tx.action_unicomer_reverse()
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(tx.unicomer_status, "reversed")
        paths = [request.path for request in self.simulator.requests]
        self.assertEqual(len(paths), 2, paths)
        self.assertRegex(paths[0], CONSULT, "re-consulted right before reversing")
        self.assertRegex(paths[1], REVERSE)
        [payment] = self._sim_payments()
        self.assertEqual(payment["state"], 4)
        reversal = json.loads(self.simulator.requests_to(REVERSE)[0].body)
        original = json.loads(tx.unicomer_request_body)
        self.assertEqual(reversal["secuencial"], int(tx.provider_reference))
        self.assertEqual(reversal["fch_proceso"], original["fch_proceso"])
        self.assertEqual(reversal["val_pagado"], original["val_pagado"])

    def test_reversal_after_synchronization_is_refused_without_calling_reversapago(self):
        tx = self._collect("50.00")
        self.simulator.clock.advance(SYNC_DELAY + 1)
        self.simulator.reset_log()
        action = tx.action_unicomer_reverse()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(tx.state, "done")
        self.assertFalse(self.simulator.requests_to(REVERSE))
        self.assertEqual(self._sim_payments()[0]["state"], 1)

    def test_reversal_refused_by_unicomer_follows_unicomer(self):
        tx = self._collect("50.00")
        self.simulator.inject_fault(
            "status", path=REVERSE, status=200, body='{"status": "666", "msg": "no",}'
        )
        tx.action_unicomer_reverse()
        self.assertEqual(tx.state, "authorized", "Unicomer still holds it as registered")
        self.assertEqual(self._sim_payments()[0]["state"], 0)

    def test_void_is_the_reversal(self):
        tx = self._collect("50.00")
        tx.action_void()
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(self._sim_payments()[0]["state"], 4)

    def test_statement_shows_the_balance_after_a_collection(self):
        before = self._credit()
        self._collect("50.00", credit=before)
        after = self._credit()
        self.assertEqual(after.amount_due, before.amount_due - self._money("50.00"))

    def test_amount_above_the_total_debt_is_refused_before_sending(self):
        credit = self._credit()
        with self.assertRaises(UserError):
            self._collect(str(credit.total_debt + 1), credit=credit)
        self.assertFalse(self._register_requests())

    def test_receipt_numbers_are_unique(self):
        first, second = self._collect("10.00"), self._collect("10.00")
        self.assertNotEqual(first.reference, second.reference)
        self.assertEqual(len(self._sim_payments()), 2)


@tagged("post_install", "-at_install")
class TestUnicomerUnknownOutcomes(UnicomerCommon):
    """registrarpago is never retried blindly: an unseen outcome is asked for first."""

    def _assert_one_payment(self, tx):
        [payment] = self._sim_payments()
        self.assertEqual(payment["num_recibo"], tx.reference)
        self.assertEqual(tx.provider_reference, str(payment["idtrx"]))
        self.assertEqual(tx.state, "authorized")

    def test_timeout_before_unicomer_registered_resends_the_same_body(self):
        self.simulator.inject_fault("drop", path=REGISTER)
        tx = self._collect("50.00")
        first, second = self._register_requests()
        self.assertEqual(first.body, second.body, "the resend is byte for byte the first send")
        self.assertEqual(tx.unicomer_resends, 1)
        consults = self.simulator.requests_to(CONSULT)
        self.assertEqual(len(consults), 1, "asked before resending")
        self.assertEqual(
            json.loads(consults[0].body)["secuencial"], CREDIT, "no idtrx yet: the credit"
        )
        self._assert_one_payment(tx)

    def test_timeout_after_unicomer_registered_does_not_resend(self):
        self.simulator.inject_fault("drop", path=REGISTER, after_handling=True)
        tx = self._collect("50.00")
        self.assertEqual(len(self._register_requests()), 1)
        self._assert_one_payment(tx)

    def test_server_error_before_registration(self):
        self.simulator.inject_fault("status", path=REGISTER, status=503)
        tx = self._collect("50.00")
        self.assertEqual(len(self._register_requests()), 2)
        self._assert_one_payment(tx)

    def test_server_error_after_registration(self):
        self.simulator.inject_fault("status", path=REGISTER, status=500, after_handling=True)
        tx = self._collect("50.00")
        self.assertEqual(len(self._register_requests()), 1)
        self._assert_one_payment(tx)

    def test_unreadable_answer_after_registration(self):
        self.simulator.inject_fault("malformed", path=REGISTER, after_handling=True)
        tx = self._collect("50.00")
        self.assertEqual(len(self._register_requests()), 1)
        self._assert_one_payment(tx)

    def test_outcome_stays_unknown_while_unicomer_cannot_be_asked(self):
        self.simulator.inject_fault("drop", path=REGISTER, after_handling=True)
        self.simulator.inject_fault("status", path=CONSULT, status=502)
        tx = self._collect("50.00")
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.unicomer_status, "unknown")
        self.assertEqual(len(self._register_requests()), 1, "never resent without an answer")
        self.env["payment.transaction"]._cron_unicomer_follow_up()
        tx.invalidate_recordset()
        self.assertEqual(len(self._register_requests()), 1)
        self._assert_one_payment(tx)

    def test_a_person_is_told_when_unicomer_keeps_not_answering(self):
        self.simulator.inject_fault("drop", path=REGISTER, after_handling=True)
        self.simulator.inject_fault("status", path=CONSULT, status=502, times=0)
        tx = self._collect("50.00")
        cron = self.env["payment.transaction"]._cron_unicomer_follow_up
        for _ in range(const.MAX_UNANSWERED_ASKS - 2):
            cron()
        tx.invalidate_recordset()
        self.assertFalse(tx.unicomer_needs_review)
        cron()
        tx.invalidate_recordset()
        self.assertTrue(tx.unicomer_needs_review)
        self.assertEqual(tx.state, "pending")
        self.assertEqual(len(self._register_requests()), 1, "never resent without an answer")

    def test_answer_timeout_is_unknown(self):
        self.provider.unicomer_read_timeout = 1
        self.simulator.inject_fault("delay", path=REGISTER, seconds=3, after_handling=True)
        tx = self._collect("50.00")
        self.assertEqual(len(self._register_requests()), 1)
        self._assert_one_payment(tx)

    def test_zombie_goes_to_the_exceptions_list(self):
        tx = self._collect("50.00")
        self.simulator.force_state(tx.reference, 2)
        self._age(tx, minutes=4)
        self.env["payment.transaction"]._cron_unicomer_follow_up()
        tx.invalidate_recordset()
        self.assertTrue(tx.unicomer_needs_review)
        self.assertEqual(tx.unicomer_status, "zombie")
        self.assertEqual(len(self._register_requests()), 1)
        self.simulator.reset_log()
        self.env["payment.transaction"]._cron_unicomer_follow_up()
        self.assertFalse(self.simulator.requests, "a flagged collection waits for a person")

    def test_manager_closes_a_zombie_as_not_collected(self):
        tx = self._collect("50.00")
        self.simulator.force_state(tx.reference, 2)
        self._age(tx, minutes=4)
        self.env["payment.transaction"]._cron_unicomer_follow_up()
        tx.invalidate_recordset()
        self.assertTrue(tx.unicomer_needs_review)
        tx.action_unicomer_close_not_collected()
        self.assertEqual(tx.state, "error")
        self.assertFalse(tx.unicomer_needs_review)
        self.assertFalse(tx.payment_id)
        self.simulator.reset_log()
        self.env["payment.transaction"]._cron_unicomer_follow_up()
        self.assertFalse(self.simulator.requests, "a closed collection is left alone")

    def test_sync_problem_goes_to_the_exceptions_list(self):
        self.simulator.inject_fault("drop", path=REGISTER, after_handling=True)
        self.simulator.inject_fault("drop", path=CONSULT)
        tx = self._collect("50.00")
        self.simulator.force_state(tx.reference, 99)
        self.env["payment.transaction"]._cron_unicomer_follow_up()
        tx.invalidate_recordset()
        self.assertTrue(tx.unicomer_needs_review)
        self.assertEqual(tx.unicomer_status, "sync_problem")
        self.assertEqual(tx.state, "pending")

    def test_clear_refusal_is_an_error_without_consulting(self):
        self.simulator.quirky_json = False
        credit = self._credit()
        unknown = unicomer_api.Credit(**{**credit.__dict__, "credit_id": 999999})
        tx = self._collect("10.00", credit=unknown)
        self.assertEqual(tx.state, "error")
        self.assertEqual(tx.unicomer_status, "rejected")
        self.assertFalse(self.simulator.requests_to(CONSULT))

    def test_refusal_in_broken_json_is_confirmed_then_not_resent(self):
        credit = self._credit()
        unknown = unicomer_api.Credit(**{**credit.__dict__, "credit_id": 999999})
        tx = self._collect("10.00", credit=unknown)
        self.assertEqual(tx.state, "error")
        self.assertEqual(tx.unicomer_status, "rejected")
        self.assertEqual(len(self.simulator.requests_to(CONSULT)), 1)
        self.assertEqual(len(self._register_requests()), 1)

    def test_refused_resend_is_left_to_a_person_not_refunded(self):
        # Unicomer registered the first send, but its consult does not find it by the
        # credit (the spec's ambiguous key): the resend is refused as a duplicate.
        self.simulator.inject_fault("drop", path=REGISTER, after_handling=True)
        not_found = (
            '{"status": 0, "msg": "ok", "data": {"idtrx": 0, "cod_status": -1, '
            '"det_status": "No existe", "num_recibo": ""}}'
        )
        self.simulator.inject_fault("status", path=CONSULT, status=200, body=not_found)
        tx = self._collect("50.00")
        self.assertEqual(len(self._register_requests()), 2)
        self.assertEqual(len(self._sim_payments()), 1, "the duplicate was refused")
        self.assertEqual(tx.state, "pending", "never an error telling to give the cash back")
        self.assertEqual(tx.unicomer_status, "unknown")
        self.assertTrue(tx.unicomer_needs_review)

    def test_asking_about_a_closed_collection_never_sends_it(self):
        self.provider.unicomer_test_password = "not-the-password"
        tx = self._collect_without_statement()
        self.assertEqual((tx.state, tx.unicomer_status), ("error", "not_sent"))
        self.provider.unicomer_test_password = SANDBOX_PASSWORD
        tx.action_unicomer_refresh()
        self.assertEqual(len(self.simulator.requests_to(CONSULT)), 1)
        self.assertFalse(self._register_requests(), "asked about, never sent")
        self.assertEqual(tx.state, "error")

    def test_wrong_password_sends_nothing(self):
        self.provider.unicomer_test_password = "not-the-password"
        tx = self._collect_without_statement()
        self.assertEqual(tx.state, "error")
        self.assertEqual(tx.unicomer_status, "not_sent")
        self.assertFalse(self._register_requests())

    def _collect_without_statement(self):
        credit = unicomer_api.Credit(
            credit_id=CREDIT, invoice="008-043-00004107", item="", installment=self._money(1),
            term=12, installments_paid=0, installments_pending=0, installments_overdue=0,
            next_due="", days_overdue=0, overdue_amount=self._money(0), charges=self._money(0),
            late_interest=self._money(0), amount_due=self._money(10), total_debt=self._money(100),
            commission_rate=self._money(0), chain="",
        )  # fmt: skip
        return self._collect("10.00", credit=credit)


@tagged("post_install", "-at_install")
class TestUnicomerToken(UnicomerCommon):
    def _token_rows(self):
        self.env.cr.execute("SELECT access_token, expires_at FROM payment_unicomer_token")
        return self.env.cr.fetchall()

    def test_token_is_kept_in_the_database_and_reused(self):
        self._collect("10.00")
        self._collect("10.00")
        self.assertEqual(self.simulator.logins, 1)
        [(token, expires_at)] = self._token_rows()
        self.assertTrue(token)
        self.assertTrue(expires_at)

    def test_expired_token_logs_in_once_and_the_payment_goes_through(self):
        self._collect("10.00")
        self.simulator.expire_tokens()
        self.simulator.reset_log()
        tx = self._collect("10.00")
        self.assertEqual(self.simulator.logins, 2)
        self.assertEqual(tx.state, "authorized")
        self.assertEqual(len(self._sim_payments()), 2)
        statuses = [request.path for request in self.simulator.requests]
        self.assertEqual(statuses.count("/token"), 1)

    def test_token_close_to_expiry_is_renewed_before_use(self):
        self._collect("10.00")
        self.env.cr.execute(
            "UPDATE payment_unicomer_token SET expires_at = now() + interval '2 hours'"
        )
        self._collect("10.00")
        self.assertEqual(self.simulator.logins, 2)

    def test_exchange_log_keeps_no_secret(self):
        tx = self._collect("10.00")
        exchanges = self.env["payment.unicomer.exchange"].search(
            [("provider_id", "=", self.provider.id)]
        )
        self.assertIn("token", exchanges.mapped("operation"))
        self.assertIn(tx, exchanges.transaction_id)
        [token] = [row[0] for row in self._token_rows()]
        for exchange in exchanges:
            text = f"{exchange.request_body} {exchange.response_body}"
            self.assertNotIn(token, text)
            self.assertNotIn(self.provider.unicomer_test_password, text)
            self.assertNotIn(self.provider.unicomer_test_idcommerce, text)

    def test_invalid_identification_is_refused_before_asking(self):
        counter = self.env["payment.unicomer.cashier"].create({"customer_vat": "0101690809"})
        with self.assertRaises(UserError):
            counter.action_search()
        self.assertFalse(self.simulator.requests)

    def test_counter_collects_end_to_end(self):
        counter = self.env["payment.unicomer.cashier"].create({"customer_vat": f" {CUSTOMER} "})
        counter.action_search()
        self.assertEqual(counter.customer_vat, CUSTOMER)
        self.assertEqual(len(counter.credit_line_ids), 2)
        line = counter.credit_line_ids.filtered(lambda line: line.credit_id == str(CREDIT))
        line.action_select()
        self.assertEqual(counter.amount, line.amount_due)
        counter.amount = 25.5
        counter.action_collect()
        tx = counter.transaction_id
        self.assertEqual(tx.state, "authorized")
        self.assertEqual(json.loads(tx.unicomer_request_body)["val_pagado"], 25.5)
        counter.action_collect()  # a second click shows the collection, sends nothing
        self.assertEqual(counter.transaction_id, tx)
        self.assertEqual(len(self._sim_payments()), 1)
        self.assertEqual(len(self._register_requests()), 1)
