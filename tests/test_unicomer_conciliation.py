from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.payment_latam.gateways import unicomer_api, unicomer_const
from odoo.addons.payment_latam.models import unicomer_collection
from odoo.addons.payment_latam.simulators.unicomer import SYNC_DELAY
from odoo.addons.payment_latam.tests.unicomer_common import CUSTOMER, UnicomerCommon

COMMISSION_CUSTOMER = "1712345675"  # credit 228301 carries porc_comision 2.50
COMMISSION_CREDIT = 228301
SECOND_CREDIT = 228086  # the spec customer's other credit


@tagged("post_install", "-at_install")
class TestUnicomerConciliation(UnicomerCommon):
    """The daily conciliación against the Unicomer simulator: every kind of
    difference is found, waiting collections are settled, totals add up."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.cashier_north = new_test_user(
            cls.env,
            login="cajero.norte",
            name="Cajero Norte",
            groups="payment_latam.group_unicomer_cashier",
        )
        cls.Conciliation = cls.env["payment.unicomer.conciliation"]

    def setUp(self):
        super().setUp()
        # The business day of collections made now (fch_proceso is Ecuador's time).
        self.day = date.fromisoformat(unicomer_api.process_time()[:10])

    # --- building the day ---

    def _collect_at(self, amount, customer=CUSTOMER, credit_id=None, locality="MATRIZ", user=None):
        statement = self._statement(customer)
        credits = {credit.credit_id: credit for credit in statement.credits}
        credit = credits[credit_id] if credit_id else statement.credits[0]
        return unicomer_collection.collect(
            self.provider,
            customer_vat=customer,
            customer_name=statement.name,
            credit=credit,
            amount=amount,
            locality=locality,
            user=user or self.admin,
        )

    def _synchronize(self, *txs):
        """Unicomer's three minutes pass; Odoo learns it for `txs` only."""
        self.simulator.clock.advance(SYNC_DELAY + 1)
        for tx in txs:
            tx._latam_lock()
            unicomer_collection.settle(tx)
            self.assertEqual(tx.state, "done")

    def _odoo_only(self, reference, amount, state, status):
        """A collection Odoo holds and Unicomer never received."""
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
                "unicomer_status": status,
                "unicomer_locality": "MATRIZ",
                "unicomer_cashier_id": self.admin.id,
            }
        )
        {"done": tx._set_done, "pending": tx._set_pending}[state]()
        return tx

    def _conciliation(self, day=None):
        return self.Conciliation.create(
            {"provider_id": self.provider.id, "environment": "test", "date": day or self.day}
        )

    def _fetch(self, record):
        result = record.action_fetch()
        record.invalidate_recordset()
        return result

    @staticmethod
    def _by_receipt(record):
        return {line.receipt_number: line for line in record.line_ids}

    def _post_process_triggers(self):
        cron = self.env.ref("payment.cron_post_process_payment_tx")
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

    def _assert_money(self, value, expected, msg=None):
        self.assertEqual(unicomer_api.money(value), Decimal(expected), msg)

    # --- tests ---

    def test_every_kind_of_difference_is_found(self):
        matched = self._collect_at("100.00")
        with_commission = self._collect_at(
            "108.90",
            customer=COMMISSION_CUSTOMER,
            credit_id=COMMISSION_CREDIT,
            locality="NORTE",
            user=self.cashier_north,
        )
        behind = self._collect_at("20.00", credit_id=SECOND_CREDIT)
        wrong_amount = self._collect_at("30.00")
        self.simulator.alter_payment(wrong_amount.reference, val_pagado="29.99")
        reversed_but_booked = self._collect_at("40.00")
        zombie = self._collect_at("10.00")
        self.simulator.force_state(zombie.reference, unicomer_const.ZOMBIE)
        sync_problem = self._collect_at("11.00")
        self.simulator.force_state(sync_problem.reference, unicomer_const.SYNC_PROBLEM)
        reversed_ = self._collect_at("12.00")
        self.assertTrue(unicomer_collection.reverse(reversed_))
        cancelled_in_odoo = self._collect_at("13.00")
        cancelled_in_odoo._set_canceled()
        other_idtrx = self._collect_at("14.00")
        # Odoo's idtrx for the receipt differs from Unicomer's (`alter_payment` cannot
        # rename a receipt: its first parameter is already called num_recibo).
        other_idtrx.provider_reference = "999999"

        # Unicomer synchronizes everything; Odoo learns it only for these.
        self._synchronize(matched, with_commission, reversed_but_booked)
        self.simulator.force_state(reversed_but_booked.reference, unicomer_const.REVERSED)
        self.simulator.add_foreign_payment(
            228085, "25.00", num_recibo="EXT-0001", fch_proceso=f"{self.day} 09:30:00.000"
        )
        ghost = self._odoo_only("UC-GHOST-1", 50.0, "done", "synchronized")
        ghost_unknown = self._odoo_only("UC-GHOST-2", 5.0, "pending", "unknown")

        triggers = self._post_process_triggers()
        record = self._conciliation()
        result = self._fetch(record)

        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(record.state, "fetched")
        lines = self._by_receipt(record)
        expected = {
            matched.reference: "matched",
            with_commission.reference: "matched",
            behind.reference: "resolved",
            wrong_amount.reference: "amount_mismatch",
            reversed_but_booked.reference: "state_mismatch",
            zombie.reference: "state_mismatch",
            sync_problem.reference: "state_mismatch",
            reversed_.reference: "matched",
            cancelled_in_odoo.reference: "state_mismatch",
            other_idtrx.reference: "reference_mismatch",
            "EXT-0001": "unknown_to_odoo",
            ghost.reference: "missing_at_unicomer",
            ghost_unknown.reference: "missing_at_unicomer",
        }
        self.assertEqual({ref: line.kind for ref, line in lines.items()}, expected)

        # Each line names both sides.
        self.assertEqual(lines[other_idtrx.reference].transaction_id, other_idtrx)
        self.assertNotEqual(lines[other_idtrx.reference].idtrx, "999999", "Unicomer's idtrx")
        self.assertFalse(lines["EXT-0001"].transaction_id)
        self.assertEqual(lines["EXT-0001"].credit_id, "228085")
        self.assertEqual(lines[ghost.reference].transaction_id, ghost)
        self.assertFalse(lines[ghost.reference].has_unicomer_row)
        self._assert_money(lines[wrong_amount.reference].odoo_amount, "30.00")
        self._assert_money(lines[wrong_amount.reference].unicomer_amount, "29.99")
        self.assertEqual(lines[zombie.reference].unicomer_state, "zombie")
        self.assertEqual(lines[sync_problem.reference].unicomer_state_code, 99)
        self.assertEqual(lines[matched.reference].idtrx, matched.provider_reference)
        self.assertEqual(lines[matched.reference].cashier_id, self.admin)
        self.assertEqual(lines[matched.reference].locality, "MATRIZ")
        self.assertTrue(lines[matched.reference].explanation)

        # The conciliation settled the collection Odoo was behind on, and only it.
        self.assertEqual(behind.state, "done")
        self.assertEqual(behind.unicomer_status, "synchronized")
        self.assertGreater(self._post_process_triggers(), triggers, "settled ones get booked")
        self.assertEqual(wrong_amount.state, "authorized", "an amount mismatch is not settled")
        self.assertEqual(reversed_but_booked.state, "done", "a conflict is flagged, not fixed")
        self.assertEqual(cancelled_in_odoo.state, "cancel")
        self.assertEqual(ghost_unknown.state, "pending")

        # Unicomer holds 100 + 108.90 + 20 + 29.99 + 13 + 25 + 14; reversed 40 + 12.
        self.assertEqual(record.unicomer_count, 7)
        self._assert_money(record.unicomer_amount, "310.89")
        self.assertEqual(record.reversed_count, 2)
        self._assert_money(record.reversed_amount, "52.00")
        # Odoo holds 100 + 108.90 + 20 + 30 + 40 + 10 + 11 + 14 + 50 (authorized or done).
        self.assertEqual(record.odoo_count, 9)
        self._assert_money(record.odoo_amount, "383.90")
        # Remitted: only what both sides agree on, net of 2.50 % of 108.90.
        self._assert_money(record.commission_amount, "2.72")
        self._assert_money(record.remit_amount, "226.18")
        self.assertEqual(record.exception_count, 9)
        self.assertEqual(len(record.difference_line_ids), 10, "exceptions and the settled one")

        by_locality = {s.name: s for s in record.locality_summary_ids}
        by_cashier = {s.cashier_id: s for s in record.cashier_summary_ids}
        self.assertEqual(set(by_locality), {"MATRIZ", "NORTE"})
        self.assertEqual(set(by_cashier), {self.admin, self.cashier_north})
        for summary in (by_locality["NORTE"], by_cashier[self.cashier_north]):
            self.assertEqual(summary.count, 1)
            self._assert_money(summary.amount, "108.90")
            self._assert_money(summary.commission_amount, "2.72")
            self._assert_money(summary.remit_amount, "106.18")
            self.assertEqual(summary.exception_count, 0)
        for summary in (by_locality["MATRIZ"], by_cashier[self.admin]):
            self.assertEqual(summary.count, 8)
            self._assert_money(summary.amount, "275.00")
            self._assert_money(summary.commission_amount, "0.00")
            self._assert_money(summary.remit_amount, "120.00")
            self.assertEqual(summary.exception_count, 8)

        # Fetching again replaces the lines: same picture, the settled one now agrees.
        old_lines = record.line_ids
        self._fetch(record)
        self.assertFalse(old_lines.exists())
        expected[behind.reference] = "matched"
        self.assertEqual(
            {ref: line.kind for ref, line in self._by_receipt(record).items()}, expected
        )
        self.assertEqual(len(record.line_ids), len(expected))
        self.assertEqual(len(record.summary_ids), 4)
        self._assert_money(record.remit_amount, "226.18")
        self.assertEqual(record.exception_count, 9)

    def test_collection_with_unknown_outcome_is_settled(self):
        # Unicomer registers the payment but neither its answer nor the consult's arrives.
        self.simulator.inject_fault(
            "drop", path="registrarpago|consultarpago", after_handling=True, times=2
        )
        tx = self._collect_at("50.00")
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.unicomer_status, "unknown")
        self.assertFalse(tx.provider_reference)
        self.simulator.clock.advance(SYNC_DELAY + 1)

        record = self._conciliation()
        self._fetch(record)

        [line] = record.line_ids
        self.assertEqual(line.kind, "resolved")
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.unicomer_status, "synchronized")
        self.assertEqual(tx.provider_reference, str(self.simulator.payment(tx.reference)["idtrx"]))
        self.assertEqual(line.idtrx, tx.provider_reference)
        self._assert_money(record.remit_amount, "50.00")
        self.assertEqual(record.exception_count, 0)

    def test_registered_collection_stays_authorized(self):
        tx = self._collect_at("60.00")
        record = self._conciliation()
        self._fetch(record)
        [line] = record.line_ids
        self.assertEqual((line.kind, line.unicomer_state), ("matched", "registered"))
        self.assertEqual(tx.state, "authorized")
        self._assert_money(record.remit_amount, "60.00")

    def test_unicomer_failure_is_recorded_not_raised(self):
        self._collect_at("70.00")
        record = self._conciliation()
        self._fetch(record)
        self.assertEqual(len(record.line_ids), 1)

        self.simulator.inject_fault("status", path="conciliacion", times=0, status=500)
        result = self._fetch(record)

        self.assertEqual(result["params"]["type"], "danger")
        self.assertEqual(record.state, "failed")
        self.assertIn("could not be fetched", record.error_message)
        self.assertNotIn("Traceback", record.error_message)
        self.assertEqual(len(record.line_ids), 1, "the earlier fetch's lines stay")

        self.simulator.clear_faults()
        self._fetch(record)
        self.assertEqual(record.state, "fetched")
        self.assertFalse(record.error_message)
        self.assertEqual(len(record.line_ids), 1)

    def test_only_managers_fetch(self):
        record = self._conciliation()
        with self.assertRaises(AccessError):
            record.with_user(self.cashier_north).action_fetch()
        self.assertEqual(record.state, "draft")

    def test_cron_concilies_yesterday_of_every_account(self):
        yesterday = datetime.now(ZoneInfo(unicomer_const.LOCAL_TIMEZONE)).date() - timedelta(1)
        self.simulator.add_foreign_payment(
            228085, "15.00", num_recibo="EXT-Y", fch_proceso=f"{yesterday} 18:00:00.000"
        )
        broken = self.provider.copy({"name": "Unicomer (unreachable)"})
        broken.write({"state": "test", "unicomer_test_api_url": "http://127.0.0.1:9"})

        self.Conciliation._cron_fetch_yesterday()
        self.Conciliation._cron_fetch_yesterday()  # a second run updates, never duplicates

        records = self.Conciliation.search([("date", "=", yesterday)])
        self.assertEqual(len(records), 2)
        good = records.filtered(lambda record: record.provider_id == self.provider)
        self.assertEqual((good.state, good.environment), ("fetched", "test"))
        self.assertEqual(good.line_ids.mapped("kind"), ["unknown_to_odoo"])
        failed = records - good
        self.assertEqual((failed.provider_id, failed.state), (broken, "failed"))
        self.assertTrue(failed.error_message)
