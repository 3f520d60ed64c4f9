"""The protocol client alone (no Odoo models): the spec's quirks, against the simulator."""

from datetime import date, datetime, timezone
from decimal import Decimal

from odoo.tests import BaseCase, tagged

from odoo.addons.payment_latam.gateways import unicomer_api as api
from odoo.addons.payment_latam.simulators.unicomer import (
    SANDBOX_IDCOMMERCE,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    UnicomerSimulator,
)


@tagged("post_install", "-at_install", "payment_latam", "unicomer")
class TestUnicomerClient(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = UnicomerSimulator().start()
        cls.addClassCleanup(cls.simulator.stop)

    def setUp(self):
        super().setUp()
        self.simulator.reset()
        self.exchanges = []
        self.client = api.UnicomerClient(
            self.simulator.url,
            SANDBOX_USERNAME,
            SANDBOX_PASSWORD,
            SANDBOX_IDCOMMERCE,
            api.MemoryTokenStore(),
            timeout=(2, 2),
            on_exchange=self.exchanges.append,
        )

    def _register(self, receipt="T-1", amount="12.30", credit_id=228085):
        body = api.payment_body(
            credit_id=credit_id,
            idcommerce=SANDBOX_IDCOMMERCE,
            processed_at=api.process_time(datetime(2026, 3, 2, 15, 4, 5, tzinfo=timezone.utc)),
            amount=amount,
            locality="MATRIZ",
            cashier="ANA",
            receipt_number=receipt,
        )
        return body, self.client.register_payment(body)

    def test_status_comes_as_number_or_text(self):
        self.assertEqual(api.normalize_status(0), 0)
        self.assertEqual(api.normalize_status(" 0 "), 0)
        self.assertEqual(api.normalize_status("451"), 451)
        self.assertEqual(api.normalize_status("-1"), -1)
        self.assertIsNone(api.normalize_status("OK"))
        self.assertIsNone(api.normalize_status(None))
        self.assertIsNone(api.normalize_status(True))

    def test_amounts_are_exact_decimals(self):
        self.assertEqual(api.money(340.78), Decimal("340.78"))
        self.assertEqual(api.money("0.1"), Decimal("0.10"))
        self.assertEqual(api.amount_text(Decimal("3409.785")), "3409.79")
        for bad in ("abc", None, True, "NaN", "Infinity"):
            with self.assertRaises(ValueError):
                api.money(bad)
        body = api.payment_body(
            credit_id=1,
            idcommerce="X",
            processed_at="2026-01-01 10:00:00.000",
            amount=Decimal("0.1") + Decimal("0.2"),
            locality="L",
            cashier="C",
            receipt_number="R",
        )
        self.assertIn('"val_pagado": 0.30,', body)

    def test_process_time_is_ecuador_local_with_milliseconds(self):
        moment = datetime(2026, 3, 2, 3, 4, 5, tzinfo=timezone.utc)
        self.assertEqual(api.process_time(moment), "2026-03-01 22:04:05.000")
        self.assertTrue(api.same_second("2026-03-01 22:04:05.000", "2026-03-01 22:04:05"))
        self.assertFalse(api.same_second("2026-03-01 22:04:05", "2026-03-01 22:04:06"))

    def test_statement_of_the_spec_customer(self):
        statement = self.client.account_statement("0101690808")
        self.assertEqual(statement.name, "LUIS ALBERTO DELEG")
        first = statement.credits[0]
        self.assertEqual(first.credit_id, 228085)
        self.assertEqual(first.invoice, "008-043-00004107")
        self.assertEqual(first.amount_due, Decimal("352.70"))
        self.assertEqual(statement.phones, ("0967761447",))

    def test_unknown_customer_is_a_refusal_even_in_broken_json(self):
        with self.assertRaises(api.UnicomerRejected) as caught:
            self.client.account_statement("0912345675000")
        self.assertEqual(caught.exception.status, 451)
        self.assertFalse(caught.exception.certain, "the spec's trailing comma was repaired")

    def test_register_consult_reverse(self):
        _body, idtrx = self._register()
        status = self.client.payment_status(idtrx, "2026-03-02 10:04:05.000", "12.30")
        self.assertEqual((status.state, status.receipt_number), (0, "T-1"))
        by_credit = self.client.payment_status(228085, "2026-03-02 10:04:05", Decimal("12.3"))
        self.assertEqual(by_credit.transaction_id, idtrx)
        self.assertEqual(
            self.client.reverse_payment(idtrx, "2026-03-02 10:04:05.000", "12.30"), "T-1"
        )
        self.assertEqual(
            self.client.payment_status(idtrx, "2026-03-02 10:04:05.000", "12.30").state, 4
        )

    def test_consult_of_nothing_is_not_found(self):
        status = self.client.payment_status(999, "2026-03-02 10:04:05.000", "1.00")
        self.assertEqual(status.state, -1)

    def test_form_only_server_gets_a_form_after_415(self):
        self.simulator.form_only_paths = {"consultarpago"}
        _body, idtrx = self._register()
        status = self.client.payment_status(idtrx, "2026-03-02 10:04:05.000", "12.30")
        self.assertEqual(status.state, 0)
        consults = self.simulator.requests_to("consultarpago")
        self.assertEqual(
            [r.header("Content-Type").split(";")[0] for r in consults],
            ["application/json", "application/x-www-form-urlencoded"],
        )

    def test_register_is_never_sent_as_a_form(self):
        self.simulator.json_only_paths = set()
        self.simulator.form_only_paths = {"registrarpago"}
        with self.assertRaises(api.UnicomerUnknownOutcome):
            self._register()
        self.assertEqual(len(self.simulator.requests_to("registrar")), 1)

    def test_conciliation_falls_back_to_the_day_month_year_format(self):
        self._register()
        self.simulator.conciliation_date_format = "dmy"
        rows = self.client.conciliation(date(2026, 3, 2))
        self.assertEqual([row.receipt_number for row in rows], ["T-1"])
        self.assertEqual(rows[0].amount, Decimal("12.30"))
        sent = [r.json()["fecha"] for r in self.simulator.requests_to("conciliacion")]
        self.assertEqual(sent, ["2026-03-02", "02-03-2026"])

    def test_one_login_for_many_calls_and_one_more_after_expiry(self):
        for _ in range(3):
            self.client.account_statement("0101690808")
        self.assertEqual(self.simulator.logins, 1)
        self.simulator.expire_tokens()
        self.client.account_statement("0101690808")
        self.assertEqual(self.simulator.logins, 2)

    def test_bad_credentials_send_nothing(self):
        self.client.password = "wrong"
        with self.assertRaises(api.UnicomerAuthError):
            self._register()
        self.assertFalse(self.simulator.requests_to("registrar"))

    def test_exchanges_are_masked(self):
        self._register()
        token_exchange = next(e for e in self.exchanges if e.operation == "token")
        self.assertNotIn(SANDBOX_PASSWORD, token_exchange.request_body)
        self.assertNotIn(SANDBOX_USERNAME, token_exchange.request_body)
        token = self.client.token_store.current().access_token
        for exchange in self.exchanges:
            self.assertNotIn(token, exchange.response_body)
            self.assertNotIn(SANDBOX_IDCOMMERCE, exchange.request_body)

    def test_unreachable_unicomer_is_not_sent(self):
        self.client.api_url = "http://127.0.0.1:9"  # discard port: connection refused
        with self.assertRaises(api.UnicomerNotSent):
            self.client.account_statement("0101690808")
