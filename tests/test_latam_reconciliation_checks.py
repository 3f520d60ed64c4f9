from datetime import date, timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.payment_latam.gateways import unicomer_api, unicomer_const
from odoo.addons.payment_latam.models import unicomer_collection
from odoo.addons.payment_latam.simulators.unicomer import SYNC_DELAY
from odoo.addons.payment_latam.tests.cajavecina_common import CajaVecinaCommon
from odoo.addons.payment_latam.tests.unicomer_common import CUSTOMER, UnicomerCommon

SECOND_CREDIT = 228086  # the Unicomer spec customer's other credit


class ReconciliationMixin:
    """Runs of the reconciliation workspace, and what they leave behind."""

    def _run(self, date_from=None, date_to=None):
        day = date_from or self.day
        run = self.env["payment.latam.reconciliation"].create(
            {"provider_id": self.provider.id, "date_from": day, "date_to": date_to or day}
        )
        run.action_run()
        run.invalidate_recordset()
        return run

    @staticmethod
    def _statuses(run):
        return {line.key: line.status for line in run.line_ids}

    @staticmethod
    def _lines(run):
        return {line.key: line for line in run.line_ids}

    def _exception(self, key):
        return self.env["payment.latam.reconciliation.exception"].search(
            [("provider_id", "=", self.provider.id), ("key", "=", key)]
        )


@tagged("post_install", "-at_install", "payment_latam")
class TestCajaVecinaReconciliation(ReconciliationMixin, CajaVecinaCommon):
    """The exchange log's accepted registrarPago calls against Odoo's done
    transactions and posted payments, built through the real webservice."""

    def setUp(self):
        self.enable_post_process_patcher = False  # payments are booked for real
        super().setUp()
        # The exchange log's create_date and the transactions' latam_date are UTC days.
        self.day = fields.Datetime.now().date()

    def _paid(self, amount, transaccion):
        invoice = self._invoice(amount)
        answer = self._pay(self._factura(invoice), amount, transaccion=transaccion)
        self.assertTrue(answer.accepted, answer.raw)
        tx = self.env["payment.transaction"].search([("invoice_ids", "in", invoice.ids)])
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.payment_id)
        return tx

    def _exchange_of(self, transaccion):
        return self.env["payment.cajavecina.exchange"].search(
            [("bank_transaction", "=", transaccion), ("result", "=", "ok")], order="id", limit=1
        )

    def _alter_exchange_amount(self, transaccion, amount):
        self.env.cr.execute(
            "UPDATE payment_cajavecina_exchange SET amount = %s WHERE id = %s",
            [amount, self._exchange_of(transaccion).id],
        )
        self.env.invalidate_all()

    def _set_payment(self, tx, payment_id):
        self.env.cr.execute(
            "UPDATE payment_transaction SET payment_id = %s WHERE id = %s", [payment_id, tx.id]
        )
        self.env.invalidate_all()

    @staticmethod
    def _cancel_payment(tx):
        tx.payment_id.action_draft()
        tx.payment_id.action_cancel()
        tx.invalidate_recordset()

    def test_every_kind_of_difference_is_found(self):
        matched = self._paid(15990, "1001")
        resend = self._pay(self._factura(matched.invoice_ids), 15990, transaccion="1001")
        self.assertTrue(resend.accepted, "a resend is answered from the log")
        wrong_amount = self._paid(12990, "1002")
        self._alter_exchange_amount("1002", 12000)
        cancelled = self._paid(5000, "1003")
        self._cancel_payment(cancelled)
        self.assertEqual(cancelled.payment_id.state, "canceled")
        unbooked = self._paid(8000, "1004")
        self._set_payment(unbooked, None)
        # The bank was answered "accepted" for a payment Odoo has nothing of.
        self.env["payment.cajavecina.exchange"].create(
            {
                "provider_id": self.provider.id,
                "operation": "registrarPago",
                "result": "ok",
                "result_code": "0",
                "rut": "760864285",
                "document": "00012345",
                "amount": 9990,
                "bank_transaction": "1005",
            }
        )
        # Refused calls are no payment: nothing to reconcile.
        self.assertEqual(self._pay("99999999", 100, transaccion="1006").error_code, 2)
        by_hand = self._create_transaction("redirect", reference="CV-HAND-1")
        by_hand._set_done()

        run = self._run()

        self.assertEqual(run.state, "done")
        self.assertEqual(
            self._statuses(run),
            {
                matched.reference: "matched",
                wrong_amount.reference: "amount_mismatch",
                cancelled.reference: "state_mismatch",
                unbooked.reference: "missing_odoo",
                "cb:1005": "missing_odoo",
                by_hand.reference: "missing_gateway",
            },
        )
        lines = self._lines(run)
        ok = lines[matched.reference]
        self.assertEqual((ok.transaction_id, ok.gateway_reference), (matched, "1001"))
        self.assertEqual((ok.odoo_amount, ok.gateway_amount), (15990, 15990))
        self.assertIn("resent 1", ok.gateway_state, "counted, not a second payment")
        amount = lines[wrong_amount.reference]
        self.assertEqual((amount.odoo_amount, amount.gateway_amount), (12990, 12000))
        self.assertIn("12000", amount.explanation)
        self.assertIn("canceled", lines[cancelled.reference].explanation.lower())
        self.assertFalse(lines["cb:1005"].transaction_id)
        self.assertFalse(lines["cb:1005"].has_odoo_amount)
        self.assertEqual(lines["cb:1005"].gateway_amount, 9990)
        hand = lines[by_hand.reference]
        self.assertEqual((hand.transaction_id, hand.odoo_amount), (by_hand, 15990))
        self.assertFalse(hand.has_gateway_amount)
        self.assertEqual((run.matched_count, run.exception_count), (1, 5))
        exceptions = self.env["payment.latam.reconciliation.exception"].search(
            [("provider_id", "=", self.provider.id)]
        )
        self.assertEqual(len(exceptions), 5)
        self.assertEqual(set(exceptions.mapped("state")), {"open"})

        # Another day's range holds none of it.
        yesterday = self._run(self.day - timedelta(days=1))
        self.assertEqual(yesterday.state, "done")
        self.assertFalse(yesterday.line_ids)

    def test_a_total_payment_and_its_resend_are_one_match(self):
        self.provider.write(
            {"cajavecina_debt_mode": "total", "cajavecina_client_id_as_document": True}
        )
        first, second = self._invoice(12990), self._invoice(20000, due=date(2026, 12, 31))
        client_id = self._consult().respuesta["ID_CLIENTE"].zfill(8)
        self.assertTrue(self._pay(client_id, 32990, transaccion="802").accepted)
        self.assertTrue(self._pay(client_id, 32990, transaccion="802").accepted)
        txs = self.env["payment.transaction"].search([("invoice_ids", "in", (first | second).ids)])
        self.assertEqual(len(txs), 2)
        main = txs.filtered(lambda tx: tx.cajavecina_payment_key == "802")

        run = self._run()

        [line] = run.line_ids
        self.assertEqual((line.key, line.status), (main.reference, "matched"))
        self.assertEqual((line.odoo_amount, line.gateway_amount), (32990, 32990))

        # One of the documents' payments cancelled: the whole bank payment disagrees.
        self._cancel_payment(txs - main)
        [line] = self._run().line_ids
        self.assertEqual((line.key, line.status), (main.reference, "state_mismatch"))

    def test_a_resolved_exception_stays_resolved_until_the_problem_changes(self):
        tx = self._paid(15990, "2001")
        self._alter_exchange_amount("2001", 15000)
        first = self._run()
        self.assertEqual(self._statuses(first), {tx.reference: "amount_mismatch"})
        exception = self._exception(tx.reference)
        self.assertEqual((exception.state, exception.status), ("open", "amount_mismatch"))
        exception.resolution = "BancoEstado confirmed 15990; their log is wrong."
        exception.action_resolve()

        second = self._run()
        self.assertEqual(self._statuses(second), {tx.reference: "amount_mismatch"})
        self.assertEqual((exception.state, exception.status), ("resolved", "amount_mismatch"))
        self.assertEqual(exception.last_line_id, second.line_ids)
        self.assertEqual(second.line_ids.exception_id, exception)

        # Another kind of problem on the same payment is a new question.
        self._cancel_payment(tx)
        third = self._run()
        self.assertEqual(self._statuses(third), {tx.reference: "state_mismatch"})
        self.assertEqual((exception.state, exception.status), ("open", "state_mismatch"))
        self.assertEqual(len(self._exception(tx.reference)), 1)

    def test_an_open_exception_whose_payment_now_matches_is_gone(self):
        tx = self._paid(15990, "3001")
        payment = tx.payment_id
        self._set_payment(tx, None)
        first = self._run()
        self.assertEqual(self._statuses(first), {tx.reference: "missing_odoo"})
        exception = self._exception(tx.reference)
        self.assertEqual(exception.state, "open")

        self._set_payment(tx, payment.id)
        second = self._run()
        self.assertEqual(self._statuses(second), {tx.reference: "matched"})
        self.assertEqual(exception.state, "gone")
        self.assertFalse(second.line_ids.exception_id, "a match opens nothing")

    def test_a_range_older_than_the_exchange_log_fails(self):
        self._paid(15990, "4001")
        days = self.provider.cajavecina_log_retention_days
        run = self._run(self.day - timedelta(days=days + 10), self.day)
        self.assertEqual(run.state, "failed")
        self.assertIn(f"keeps {days} days", run.message)
        self.assertFalse(run.line_ids)
        self.assertFalse(self.env["payment.latam.reconciliation.exception"].search([]))


@tagged("post_install", "-at_install", "payment_latam")
class TestUnicomerReconciliation(ReconciliationMixin, UnicomerCommon):
    """The daily conciliación of each day of the range, read as findings."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")

    def setUp(self):
        super().setUp()
        # Unicomer's business day of collections made now (Ecuador's time).
        self.day = date.fromisoformat(unicomer_api.process_time()[:10])

    def _collect_at(self, amount, credit_id=None):
        statement = self._statement(CUSTOMER)
        credits = {credit.credit_id: credit for credit in statement.credits}
        credit = credits[credit_id] if credit_id else statement.credits[0]
        return unicomer_collection.collect(
            self.provider,
            customer_vat=CUSTOMER,
            customer_name=statement.name,
            credit=credit,
            amount=amount,
            locality="MATRIZ",
            user=self.admin,
        )

    def _synchronize(self, *txs):
        """Unicomer's three minutes pass; Odoo learns it for `txs` only."""
        self.simulator.clock.advance(SYNC_DELAY + 1)
        for tx in txs:
            tx._latam_lock()
            unicomer_collection.settle(tx)
            self.assertEqual(tx.state, "done")

    def _odoo_only(self, reference, amount):
        """A collection Odoo holds as done and Unicomer never received."""
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.provider.payment_method_ids[:1].id,
                "reference": reference,
                "amount": amount,
                "currency_id": self.currency_usd.id,
                "partner_id": self.provider.unicomer_partner_id.id,
                "operation": "offline",
                "unicomer_environment": "test",
                "unicomer_credit_id": "228085",
                "unicomer_processed_at": f"{self.day} 08:00:00.000",
                "unicomer_status": "synchronized",
                "unicomer_locality": "MATRIZ",
                "unicomer_cashier_id": self.admin.id,
            }
        )
        tx._set_done()
        return tx

    def test_every_kind_of_difference_is_found(self):
        matched = self._collect_at("100.00")
        behind = self._collect_at("20.00", credit_id=SECOND_CREDIT)
        wrong_amount = self._collect_at("30.00")
        self.simulator.alter_payment(wrong_amount.reference, val_pagado="29.99")
        zombie = self._collect_at("10.00")
        self.simulator.force_state(zombie.reference, unicomer_const.ZOMBIE)
        other_idtrx = self._collect_at("14.00")
        other_idtrx.provider_reference = "999999"
        self._synchronize(matched)
        self.simulator.add_foreign_payment(
            228085, "25.00", num_recibo="EXT-0001", fch_proceso=f"{self.day} 09:30:00.000"
        )
        ghost = self._odoo_only("UC-GHOST-1", 50.0)

        run = self._run()

        self.assertEqual(run.state, "done", run.message)
        self.assertEqual(
            self._statuses(run),
            {
                matched.reference: "matched",
                behind.reference: "matched",  # settled by the conciliation itself
                wrong_amount.reference: "amount_mismatch",
                zombie.reference: "state_mismatch",
                other_idtrx.reference: "state_mismatch",
                "EXT-0001": "missing_odoo",
                ghost.reference: "missing_gateway",
            },
        )
        self.assertEqual(behind.state, "done")
        lines = self._lines(run)
        amount = lines[wrong_amount.reference]
        self.assertEqual(amount.transaction_id, wrong_amount)
        self.assertAlmostEqual(amount.odoo_amount, 30.00)
        self.assertAlmostEqual(amount.gateway_amount, 29.99)
        self.assertEqual(amount.gateway_reference, wrong_amount.provider_reference)
        self.assertTrue(lines[zombie.reference].explanation.startswith("State mismatch"))
        self.assertTrue(lines[other_idtrx.reference].explanation.startswith("Reference mismatch"))
        foreign = lines["EXT-0001"]
        self.assertFalse(foreign.transaction_id)
        self.assertFalse(foreign.has_odoo_amount)
        self.assertAlmostEqual(foreign.gateway_amount, 25.00)
        self.assertFalse(lines[ghost.reference].has_gateway_amount)
        self.assertEqual(set(run.line_ids.mapped("date")), {self.day})
        self.assertEqual(run.exception_count, 5)

        conciliation = self.env["payment.unicomer.conciliation"].search(
            [("provider_id", "=", self.provider.id), ("date", "=", self.day)]
        )
        self.assertEqual(conciliation.state, "fetched", "the day's conciliation was reused")

    def test_a_failing_gateway_fails_the_run_and_changes_nothing(self):
        wrong_amount = self._collect_at("30.00")
        self.simulator.alter_payment(wrong_amount.reference, val_pagado="29.99")
        first = self._run()
        self.assertEqual(self._statuses(first), {wrong_amount.reference: "amount_mismatch"})
        exception = self._exception(wrong_amount.reference)
        exception.resolution = "Unicomer will correct its record."
        exception.action_resolve()
        before = exception.read(["state", "status", "last_seen", "last_line_id"])

        self.simulator.inject_fault("status", path="conciliacion", times=0, status=500)
        failed = self._run()

        self.assertEqual(failed.state, "failed")
        self.assertIn("could not be fetched", failed.message)
        self.assertNotIn("Traceback", failed.message)
        self.assertFalse(failed.line_ids)
        self.assertTrue(failed.run_at)
        exception.invalidate_recordset()
        self.assertEqual(exception.read(["state", "status", "last_seen", "last_line_id"]), before)
        self.assertEqual(first.line_ids.exception_id, exception, "earlier runs keep their lines")
        conciliation = self.env["payment.unicomer.conciliation"].search(
            [("provider_id", "=", self.provider.id), ("date", "=", self.day)]
        )
        self.assertEqual(conciliation.state, "fetched", "the failed fetch left no trace there")

        # Unicomer answers again: the same mismatch, still resolved.
        self.simulator.clear_faults()
        again = self._run()
        self.assertEqual(again.state, "done")
        self.assertEqual(self._statuses(again), {wrong_amount.reference: "amount_mismatch"})
        self.assertEqual(exception.state, "resolved")
