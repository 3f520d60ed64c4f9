"""The reconciliation runs of Webpay and ETpay against their loopback simulators.

The simulators' own records are the gateway's truth: a test that changes them
(an amount, a reversal, a forgotten token) plays what happened at the gateway
without Odoo knowing.
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.models import webpay_flow
from odoo.addons.payment_latam.tests.etpay_common import EtpayCommon
from odoo.addons.payment_latam.tests.webpay_common import WebpayCommon

CHECKS_LOGGER = "odoo.addons.payment_latam.models.reconciliation_checks"
RUN_LOGGER = "odoo.addons.payment_latam.models.latam_reconciliation"
HOURS = 3600


class ReconciliationRunMixin:
    def _run(self):
        today = fields.Datetime.now().date()
        run = self.env["payment.latam.reconciliation"].create(
            {"provider_id": self.provider.id, "date_from": today, "date_to": today}
        )
        run.action_run()
        return run

    def _line(self, run, tx):
        line = run.line_ids.filtered(lambda line: line.key == tx.reference)
        self.assertEqual(len(line), 1, f"one line for {tx.reference}")
        return line

    def _exceptions(self):
        return self.env["payment.latam.reconciliation.exception"].search(
            [("provider_id", "=", self.provider.id)]
        )


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpayReconciliation(ReconciliationRunMixin, WebpayCommon):
    def setUp(self):
        # Refunds run for real, as an accountant does them from the payment.
        self.enable_post_process_patcher = False
        super().setUp()

    def _sale_at_transbank(self, tx):
        return self.transbank.transactions[tx.provider_reference]

    def test_what_both_sides_agree_on_is_matched(self):
        paid = self._paid_transaction("WP-REC-PAID")
        rejected = self._paid_transaction("WP-REC-REJ", outcome="reject")
        aborted, _form = self._open_webpay_transaction(reference="WP-REC-ABORT")
        self._shopper_decides(aborted, "abort")
        self._return(
            "POST",
            TBK_TOKEN=aborted.provider_reference,
            TBK_ORDEN_COMPRA=aborted.reference,
            TBK_ID_SESION=aborted.webpay_session_id,
        )
        self.assertEqual((paid.state, rejected.state, aborted.state), ("done", "error", "cancel"))

        run = self._run()
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.line_ids.mapped("status")), {"matched"})
        self.assertEqual((run.matched_count, run.exception_count), (3, 0))
        line = self._line(run, paid)
        self.assertEqual(line.transaction_id, paid)
        self.assertEqual((line.odoo_amount, line.gateway_amount), (15990, 15990))
        self.assertEqual((line.odoo_state, line.gateway_state), ("done", "AUTHORIZED"))
        self.assertEqual(line.gateway_reference, paid.webpay_authorization_code)
        self.assertEqual(self._line(run, rejected).gateway_state, "FAILED (-1)")
        self.assertEqual(self._line(run, aborted).gateway_state, "unknown")
        self.assertFalse(self._exceptions())
        self.assertEqual(len(self.transbank.requests_to(r"/transactions/[^/]+$", "GET")), 3)

    def test_nullifications_odoo_refunded_are_matched_on_the_balance_left(self):
        tx = self._paid_transaction("WP-REC-NULL")
        self.transbank.clock.advance(4 * HOURS)
        tx.action_refund(amount_to_refund=5000)
        self.assertEqual(self._sale_at_transbank(tx)["balance"], 10990)

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "matched")
        self.assertEqual((line.odoo_amount, line.gateway_amount), (10990, 10990))
        self.assertEqual(line.gateway_state, "PARTIALLY_NULLIFIED")

    def test_a_nullification_of_another_amount_than_odoos_refund_is_an_amount_mismatch(self):
        tx = self._paid_transaction("WP-REC-NULL2")
        self.transbank.clock.advance(4 * HOURS)
        tx.action_refund(amount_to_refund=5000)
        self._sale_at_transbank(tx)["balance"] = 9990  # 1000 more went back at Transbank

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "amount_mismatch")
        self.assertEqual((line.odoo_amount, line.gateway_amount), (10990, 9990))
        self.assertIn("6000", line.explanation)

    def test_an_amount_transbank_has_otherwise_is_an_exception_until_it_matches(self):
        tx = self._paid_transaction("WP-REC-AMOUNT")
        self._sale_at_transbank(tx)["amount"] = 15000

        run = self._run()
        line = self._line(run, tx)
        self.assertEqual(line.status, "amount_mismatch")
        self.assertEqual((line.odoo_amount, line.gateway_amount), (15990, 15000))
        self.assertIn("15000", line.explanation)
        exception = self._exceptions()
        self.assertEqual(exception.key, tx.reference)
        self.assertEqual((exception.status, exception.state), ("amount_mismatch", "open"))
        self.assertEqual(line.exception_id, exception)

        self._sale_at_transbank(tx)["amount"] = 15990  # Transbank corrected it
        self.assertEqual(self._line(self._run(), tx).status, "matched")
        self.assertEqual(exception.state, "gone")

    def test_reversed_at_transbank_but_done_in_odoo_is_a_state_mismatch(self):
        tx = self._paid_transaction("WP-REC-REV")
        self._sale_at_transbank(tx).update(status="REVERSED", balance=0)

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "state_mismatch")
        self.assertEqual((line.odoo_state, line.gateway_state), ("done", "REVERSED"))
        self.assertEqual((line.odoo_amount, line.gateway_amount), (15990, 0))
        self.assertIn("Odoo records no refund", line.explanation)

    def test_authorized_at_transbank_but_cancelled_in_odoo_is_a_state_mismatch(self):
        # The commit went through at Transbank; Odoo never heard and gave up.
        tx, _form = self._open_webpay_transaction(reference="WP-REC-LOST")
        self._shopper_decides(tx, "approve")
        webpay_flow.client_for(self.provider).commit_transaction(tx.provider_reference)
        tx._set_canceled()

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "state_mismatch")
        self.assertEqual((line.odoo_state, line.gateway_state), ("cancel", "AUTHORIZED"))
        self.assertIn("Transbank took 15990", line.explanation)

    def test_a_done_payment_transbank_does_not_know_is_missing_at_the_gateway(self):
        tx = self._paid_transaction("WP-REC-GONE")
        del self.transbank.transactions[tx.provider_reference]

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "missing_gateway")
        self.assertFalse(line.has_gateway_amount)
        self.assertIn("no paid transaction", line.explanation)

    def test_a_payment_older_than_the_status_window_is_not_asked_and_left_to_a_person(self):
        old = self._paid_transaction("WP-REC-OLD")
        old_rejected = self._paid_transaction("WP-REC-OLD-REJ", outcome="reject")
        recent = self._paid_transaction("WP-REC-NEW")
        self.env.cr.execute(
            "UPDATE payment_transaction SET create_date = %s WHERE id IN %s",
            (fields.Datetime.now() - timedelta(days=8), (old.id, old_rejected.id)),
        )
        (old | old_rejected).invalidate_recordset(["create_date"])
        self.transbank.reset_log()

        run = self._run()
        line = self._line(run, old)
        self.assertEqual(line.status, "missing_gateway")
        self.assertIn("No longer queryable", line.explanation)
        unpaid = self._line(run, old_rejected)
        self.assertEqual(unpaid.status, "unverified", "too old to ask; Odoo took nothing")
        self.assertEqual(unpaid.gateway_state, "not asked")
        self.assertEqual(self._line(run, recent).status, "matched")
        (status_call,) = self.transbank.requests_to(r"/transactions/[^/]+$", "GET")
        self.assertIn(recent.provider_reference, status_call.path)

    def test_a_payment_transbank_did_not_answer_for_is_an_exception_the_rest_is_compared(self):
        first = self._paid_transaction("WP-REC-NOANS")
        second = self._paid_transaction("WP-REC-ANS")
        self.transbank.inject_fault("drop", path=first.provider_reference)

        with mute_logger(CHECKS_LOGGER):
            run = self._run()
        self.assertEqual(run.state, "done")
        line = self._line(run, first)
        self.assertEqual(line.status, "missing_gateway")
        self.assertIn("Transbank did not answer", line.explanation)
        self.assertEqual(self._line(run, second).status, "matched")

    def test_transbank_down_for_every_call_fails_the_run_and_changes_nothing(self):
        self._paid_transaction("WP-REC-DOWN1")
        self._paid_transaction("WP-REC-DOWN2")
        self.transbank.inject_fault("status", status=503, times=0)

        with mute_logger(CHECKS_LOGGER, RUN_LOGGER):
            run = self._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("Transbank did not answer any status call", run.message)
        self.assertFalse(run.line_ids)
        self.assertFalse(self._exceptions())

    def test_mall_payments_are_compared_on_their_stores_part(self):
        self.provider.webpay_mall = True
        matched = self._paid_transaction("WP-REC-MALL1")
        altered = self._paid_transaction("WP-REC-MALL2")
        self._sale_at_transbank(altered)["details"][0]["amount"] = 14990

        run = self._run()
        self.assertEqual(self._line(run, matched).status, "matched")
        line = self._line(run, altered)
        self.assertEqual(line.status, "amount_mismatch")
        self.assertEqual(line.gateway_amount, 14990)


@tagged("post_install", "-at_install", "payment_latam", "etpay")
class TestEtpayReconciliation(ReconciliationRunMixin, EtpayCommon):
    def _paid(self, reference, outcome="success"):
        tx, _form = self._open_etpay_transaction(reference=reference)
        self._payer_decides(tx, outcome)
        return tx

    def test_what_both_sides_agree_on_is_matched(self):
        paid = self._paid("ET-REC-PAID")
        failed = self._paid("ET-REC-ERR", outcome="error")
        unpaid, _form = self._open_etpay_transaction(reference="ET-REC-OPEN")
        self.assertEqual((paid.state, failed.state, unpaid.state), ("done", "error", "draft"))

        run = self._run()
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.line_ids.mapped("status")), {"matched"})
        line = self._line(run, paid)
        self.assertEqual((line.odoo_amount, line.gateway_amount), (15990, 15990))
        self.assertEqual((line.odoo_state, line.gateway_state), ("done", "success"))
        self.assertEqual(line.gateway_reference, paid.etpay_payment_token)
        self.assertEqual(self._line(run, failed).gateway_state, "error")
        self.assertEqual(self._line(run, unpaid).gateway_state, "none")
        self.assertFalse(self._exceptions())
        self.assertEqual(self._status_calls(), 3)

    def test_a_transfer_of_another_amount_is_an_amount_mismatch(self):
        tx = self._paid("ET-REC-AMOUNT")
        self.simulator.status_overrides[tx.provider_reference] = {"order_amount": 15000}

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "amount_mismatch")
        self.assertEqual((line.odoo_amount, line.gateway_amount), (15990, 15000))
        self.assertEqual(self._exceptions().status, "amount_mismatch")

    def test_a_success_at_etpay_odoo_cancelled_is_a_state_mismatch(self):
        self.simulator.webhook_mode = "never"
        tx = self._paid("ET-REC-LOST")  # the payer paid; the redirect never came back
        tx._set_canceled()

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "state_mismatch")
        self.assertEqual((line.odoo_state, line.gateway_state), ("cancel", "success"))
        self.assertIn("successful transfer", line.explanation)

    def test_a_done_payment_etpay_calls_failed_is_a_state_mismatch(self):
        tx = self._paid("ET-REC-FAILED")
        self.simulator.status_overrides[tx.provider_reference] = {"payment_status": "error"}

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "state_mismatch")
        self.assertEqual((line.odoo_state, line.gateway_state), ("done", "error"))

    def test_a_done_payment_etpay_does_not_list_is_missing_at_the_gateway(self):
        tx = self._paid("ET-REC-GONE")
        with self.simulator.state_lock:
            del self.simulator.sessions[tx.provider_reference]

        line = self._line(self._run(), tx)
        self.assertEqual(line.status, "missing_gateway")
        self.assertFalse(line.has_gateway_amount)
        self.assertEqual(self._exceptions().key, tx.reference)

    def test_a_payment_etpay_did_not_answer_for_is_an_exception_the_rest_is_compared(self):
        first = self._paid("ET-REC-NOANS")
        second = self._paid("ET-REC-ANS")
        self.simulator.inject_fault("drop", path="check_payment_status")  # the first call only

        with mute_logger(CHECKS_LOGGER):
            run = self._run()
        self.assertEqual(run.state, "done")
        line = self._line(run, first)
        self.assertEqual(line.status, "missing_gateway")
        self.assertIn("ETpay did not answer", line.explanation)
        self.assertEqual(self._line(run, second).status, "matched")

    def test_etpay_down_for_every_call_fails_the_run_and_changes_nothing(self):
        self._paid("ET-REC-DOWN1")
        self._paid("ET-REC-DOWN2")
        self.simulator.inject_fault("status", path="check_payment_status", status=503, times=0)

        with mute_logger(CHECKS_LOGGER, RUN_LOGGER):
            run = self._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("ETpay did not answer any status call", run.message)
        self.assertFalse(run.line_ids)
        self.assertFalse(self._exceptions())
