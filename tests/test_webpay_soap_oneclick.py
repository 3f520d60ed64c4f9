"""Oneclick Normal and Mall over Transbank's legacy SOAP API: the wire layer alone
(no Odoo models), against the simulator, signatures and all."""

import re
from unittest import mock

import requests

from odoo.tests import BaseCase, tagged

from odoo.addons.payment_latam.gateways import webpay_soap_oneclick as oc
from odoo.addons.payment_latam.gateways import webpay_soap_oneclick_const as const
from odoo.addons.payment_latam.gateways.webpay_rest import WebpayUnknownOutcome
from odoo.addons.payment_latam.gateways.webpay_soap import SoapFault
from odoo.addons.payment_latam.gateways.wsse_signature import SignatureInvalid
from odoo.addons.payment_latam.simulators import webpay_soap_oneclick as sim_oc
from odoo.addons.payment_latam.simulators.test_pki import make_key_and_certificate
from odoo.addons.payment_latam.simulators.webpay_soap import (
    INTEGRATION_MALL,
    INTEGRATION_MALL_STORES,
    INTEGRATION_NORMAL,
    WebpaySoapSimulator,
)

STORE_A, STORE_B = INTEGRATION_MALL_STORES
RETURN_URL = "https://shop.example.com/payment/webpay/oneclick/return"


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpaySoapOneclick(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = WebpaySoapSimulator().start()
        cls.addClassCleanup(cls.simulator.stop)

    def setUp(self):
        super().setUp()
        self.simulator.reset()
        self.simulator.clear_faults()
        self.simulator.reset_log()
        self.simulator.oneclick_autopilot = "accept"
        self.normal = self._client(oc.OneclickNormalClient, INTEGRATION_NORMAL)
        self.mall = self._client(oc.OneclickMallClient, INTEGRATION_MALL)

    def _client(self, cls, code, key=None, certificate=None):
        return cls(
            self.simulator.url,
            code,
            key or self.simulator.integration_key_pem,
            certificate or self.simulator.integration_certificate_pem,
            self.simulator.transbank_certificate_pem,
            timeout=(2, 2),
        )

    def _inscribe(self, client, username="ana"):
        start = client.init_inscription(username, f"{username}@example.com", RETURN_URL)
        page = requests.post(start.url, data=start.form_fields, timeout=5)
        self.assertEqual(page.status_code, 200)
        self.assertIn(f'action="{RETURN_URL}"', page.text)
        self.assertIn(f'name="TBK_TOKEN" value="{start.token}"', page.text)
        return client.finish_inscription(start.token)

    def _mall_payment(self, buy_order=7001, parts=None, username="bob"):
        user = self._inscribe(self.mall, username)
        parts = parts or [(STORE_A, "a-1", 1000), (STORE_B, "b-1", 2500)]
        return user, self.mall.authorize(buy_order, user.tbk_user, username, parts)

    def _soap_requests(self, path):
        return self.simulator.requests_to(path, method="POST")

    # --- Oneclick Normal ---

    def test_normal_inscription_then_payment(self):
        start = self.normal.init_inscription("ana", "ana@example.com", RETURN_URL)
        self.assertTrue(start.url.endswith(sim_oc.NORMAL_FORM_PATH))
        self.assertEqual(start.form_fields, {"TBK_TOKEN": start.token})
        requests.post(start.url, data=start.form_fields, timeout=5)
        user = self.normal.finish_inscription(start.token)
        self.assertTrue(user.accepted)
        self.assertEqual((user.card_type, user.card_last4), ("Visa", "6623"))
        self.assertTrue(user.authorization_code)
        [saved] = self.simulator.oneclick_users("normal")
        self.assertEqual((saved["tbk_user"], saved["username"]), (user.tbk_user, "ana"))

        payment = self.normal.authorize(1001, user.tbk_user, "ana", 5000)
        self.assertTrue(payment.approved)
        self.assertEqual(payment.status, "AUTHORIZED")
        self.assertEqual((payment.buy_order, payment.amount), (1001, 5000))
        self.assertEqual(payment.card_last4, "6623")
        self.assertTrue(payment.authorization_code)
        self.assertIsInstance(payment.transaction_id, int)
        recorded = self.simulator.oneclick_normal_payment(1001)
        self.assertEqual(recorded["amount"], 5000)
        self.assertEqual(recorded["authorization_code"], payment.authorization_code)

    def test_normal_inscription_aborted_and_finished_once(self):
        self.simulator.oneclick_autopilot = "abort"
        user = self._inscribe(self.normal)
        self.assertFalse(user.accepted)
        self.assertEqual(user.response_code, sim_oc.CANCELLED_INSCRIPTION)
        self.assertEqual(self.simulator.oneclick_users("normal"), [])

        self.simulator.oneclick_autopilot = "accept"
        start = self.normal.init_inscription("ana", "ana@example.com", RETURN_URL)
        with self.assertRaises(SoapFault) as caught:  # the shopper has not been to the form
            self.normal.finish_inscription(start.token)
        self.assertEqual(caught.exception.code, sim_oc.NOT_ALLOWED)
        requests.post(start.url, data=start.form_fields, timeout=5)
        self.assertTrue(self.normal.finish_inscription(start.token).accepted)
        with self.assertRaises(SoapFault):
            self.normal.finish_inscription(start.token)
        with self.assertRaises(SoapFault) as caught:
            self.normal.finish_inscription("no-such-token")
        self.assertEqual(caught.exception.code, sim_oc.NOT_FOUND)

    def test_normal_declines_are_answers(self):
        user = self._inscribe(self.normal)
        unknown = self.normal.authorize(1, "not-a-tbk-user", "ana", 1000)
        self.assertEqual(unknown.response_code, const.NO_INSCRIPTION_CODE)
        self.assertFalse(unknown.approved)
        self.assertEqual(unknown.status, "FAILED")
        wrong_username = self.normal.authorize(2, user.tbk_user, "eve", 1000)
        self.assertEqual(wrong_username.response_code, const.NO_INSCRIPTION_CODE)
        too_much = self.normal.authorize(3, user.tbk_user, "ana", 2_000_000)
        self.assertEqual(too_much.response_code, const.AMOUNT_LIMIT_CODE)
        self.simulator.oneclick_decline = True
        declined = self.normal.authorize(4, user.tbk_user, "ana", 1000)
        self.assertIn(declined.response_code, const.REJECTION_CODES)
        self.assertEqual(declined.authorization_code, "")
        with self.assertRaises(SoapFault) as caught:  # a buy order is used once
            self.normal.authorize(4, user.tbk_user, "ana", 1000)
        self.assertEqual(caught.exception.code, sim_oc.NOT_ALLOWED)

    def test_normal_reverse_same_accounting_day_only(self):
        user = self._inscribe(self.normal)
        self.normal.authorize(10, user.tbk_user, "ana", 3000)
        reversal = self.normal.reverse(10)
        self.assertTrue(reversal.reversed)
        self.assertTrue(reversal.reverse_code)
        self.assertTrue(self.simulator.oneclick_normal_payment(10)["reversed"])
        # Asked again (say the first answer was lost): the same reversal.
        self.assertEqual(self.normal.reverse(10), reversal)
        self.assertFalse(self.normal.reverse(999).reversed)  # never charged

        self.normal.authorize(11, user.tbk_user, "ana", 3000)
        self.simulator.oneclick_age(11, 2 * 86400)
        self.assertFalse(self.normal.reverse(11).reversed)
        self.assertFalse(self.simulator.oneclick_normal_payment(11)["reversed"])

    def test_normal_remove_user(self):
        user = self._inscribe(self.normal)
        self.assertFalse(self.normal.remove_user(user.tbk_user, "eve"))
        self.assertTrue(self.normal.remove_user(user.tbk_user, "ana"))
        self.assertFalse(self.normal.remove_user(user.tbk_user, "ana"))
        self.assertEqual(self.simulator.oneclick_users("normal"), [])
        payment = self.normal.authorize(20, user.tbk_user, "ana", 1000)
        self.assertEqual(payment.response_code, const.NO_INSCRIPTION_CODE)

    def test_normal_lost_authorize_answer_is_unknown_never_retried(self):
        user = self._inscribe(self.normal)
        self.simulator.inject_fault("drop", path=const.NORMAL_PATH, after_handling=True)
        with self.assertRaises(oc.AuthorizeUnknown) as caught:
            self.normal.authorize(30, user.tbk_user, "ana", 4000)
        self.assertIsInstance(caught.exception, WebpayUnknownOutcome)
        self.assertEqual(caught.exception.buy_order, 30)
        self.assertIsNone(caught.exception.reverse_seconds_left())  # Normal: all day
        authorizes = [
            r
            for r in self._soap_requests(const.NORMAL_PATH)
            if re.search(rb"<\w+:authorize\b", r.body)
        ]
        self.assertEqual(len(authorizes), 1)  # sent once, not retried
        self.assertEqual(self.simulator.oneclick_normal_payment(30)["response_code"], 0)
        self.assertTrue(self.normal.reverse(30).reversed)  # the documented remedy

    def test_inputs_checked_before_sending(self):
        cases = [
            lambda: self.normal.init_inscription("a" * 257, "a@example.com", RETURN_URL),
            lambda: self.normal.init_inscription("ana", "", RETURN_URL),
            lambda: self.normal.init_inscription("ana", "a@example.com", "x" * 257),
            lambda: self.normal.authorize("B-1", "tbk", "ana", 1000),
            lambda: self.normal.authorize(0, "tbk", "ana", 1000),
            lambda: self.normal.authorize(1, "tbk", "ana", 10.5),
            lambda: self.mall.authorize(1, "tbk", "bob", []),
            lambda: self.mall.authorize(1, "tbk", "bob", [(STORE_A, "x" * 27, 1000)]),
            lambda: self.mall.authorize(1, "tbk", "bob", [(STORE_A, "a", 1), (STORE_A, "a", 2)]),
            lambda: self.mall.authorize(1, "tbk", "bob", [("123", "a", 1000)]),
            lambda: self.mall.capture(STORE_A, "a", "1234567", 1000),
            lambda: self.mall.nullify(STORE_A, "a", "123456", 1000, 1001),
        ]
        for case in cases:
            with self.assertRaises(ValueError):
                case()
        self.assertEqual(self.simulator.requests, [])

    # --- Oneclick Mall ---

    def test_mall_inscription_and_payment_per_store(self):
        self.simulator.rejected_stores = {STORE_B}
        user, result = self._mall_payment()
        self.assertTrue(user.accepted)
        self.assertEqual(user.card_last4, "6623")
        self.assertEqual(user.card_origin, "NATIONAL_CARD")
        self.assertTrue(user.card_expiration_date)
        self.assertEqual(result.buy_order, "7001")
        self.assertTrue(result.accounting_date)
        first, second = result.details
        self.assertEqual(
            (first.commerce_code, first.buy_order, first.amount), (STORE_A, "a-1", 1000)
        )
        self.assertTrue(first.approved)
        self.assertTrue(first.authorization_code)
        self.assertEqual(second.commerce_code, STORE_B)
        self.assertFalse(second.approved)
        self.assertTrue(second.failed)
        self.assertIs(result.detail(STORE_A, "a-1"), first)
        operation = self.simulator.oneclick_mall_operation(7001)
        self.assertEqual([p["status"] for p in operation["parts"]], ["AUTHORIZED", "FAILED"])

    def test_mall_authorize_refusals(self):
        user = self._inscribe(self.mall, "bob")
        with self.assertRaises(SoapFault) as caught:  # a store of no mall of ours
            self.mall.authorize(1, user.tbk_user, "bob", [(INTEGRATION_NORMAL, "n-1", 100)])
        self.assertEqual(caught.exception.code, sim_oc.WRONG_CERTIFICATE)
        with self.assertRaises(SoapFault) as caught:
            self.mall.authorize(2, "not-a-tbk-user", "bob", [(STORE_A, "a-2", 100)])
        self.assertEqual(caught.exception.code, sim_oc.NOT_ALLOWED)
        self.mall.authorize(3, user.tbk_user, "bob", [(STORE_A, "a-3", 100)])
        with self.assertRaises(SoapFault):  # the mall's buy order is used once
            self.mall.authorize(3, user.tbk_user, "bob", [(STORE_A, "a-4", 100)])
        over = self.mall.authorize(4, user.tbk_user, "bob", [(STORE_A, "a-5", 2_000_000)])
        self.assertEqual(over.details[0].response_code, const.AMOUNT_LIMIT_CODE)

    def test_mall_answer_must_match_what_was_asked(self):
        user = self._inscribe(self.mall, "bob")
        answer = {
            "commerceId": int(INTEGRATION_MALL),
            "buyOrder": "40",
            "storesOutput": [
                {
                    "commerceId": int(STORE_A),
                    "buyOrder": "a-40",
                    "amount": 999,  # asked 1000
                    "authorizationCode": "123456",
                    "responseCode": 0,
                }
            ],
        }
        with (
            mock.patch.object(self.mall.service, "call", return_value=answer),
            self.assertRaises(oc.AuthorizeUnknown),
        ):
            self.mall.authorize(40, user.tbk_user, "bob", [(STORE_A, "a-40", 1000)])
        answer["storesOutput"][0]["amount"] = 1000
        answer["buyOrder"] = "41"  # another operation
        with (
            mock.patch.object(self.mall.service, "call", return_value=answer),
            self.assertRaises(oc.AuthorizeUnknown),
        ):
            self.mall.authorize(40, user.tbk_user, "bob", [(STORE_A, "a-40", 1000)])
        answer["buyOrder"] = "40"
        with mock.patch.object(self.mall.service, "call", return_value=answer):
            with self.assertRaises(oc.AuthorizeUnknown):  # a store asked for is missing
                self.mall.authorize(
                    40, user.tbk_user, "bob", [(STORE_A, "a-40", 1000), (STORE_B, "b-40", 5)]
                )
            result = self.mall.authorize(40, user.tbk_user, "bob", [(STORE_A, "a-40", 1000)])
        self.assertTrue(result.details[0].approved)

    def test_mall_reverse_within_30_seconds_only(self):
        _user, result = self._mall_payment(buy_order=50)
        self.simulator.clock.advance(20)
        reversal = self.mall.reverse(50)
        self.assertTrue(reversal.reversed)
        self.assertEqual(
            {(s.commerce_code, s.buy_order) for s in reversal.stores},
            {(d.commerce_code, d.buy_order) for d in result.details},
        )
        self.assertTrue(all(s.reverse_code for s in reversal.stores))
        parts = self.simulator.oneclick_mall_operation(50)["parts"]
        self.assertEqual({p["status"] for p in parts}, {"REVERSED"})
        with self.assertRaises(SoapFault) as caught:  # a reversed part cannot be nullified
            detail = result.details[0]
            self.mall.nullify(STORE_A, "a-1", detail.authorization_code, 1000, 1000)
        self.assertEqual(caught.exception.code, sim_oc.ALREADY_REVERSED)

        user = self._inscribe(self.mall, "carla")
        self.mall.authorize(51, user.tbk_user, "carla", [(STORE_A, "a-51", 700)])
        self.simulator.clock.advance(const.MALL_REVERSE_WINDOW_SECONDS + 1)
        late = self.mall.reverse(51)
        self.assertFalse(late.reversed)
        self.assertEqual(len(late.stores), 1)
        [part] = self.simulator.oneclick_mall_operation(51)["parts"]
        self.assertEqual(part["status"], "AUTHORIZED")
        with self.assertRaises(SoapFault) as caught:
            self.mall.reverse(52)
        self.assertEqual(caught.exception.code, sim_oc.NOT_FOUND)

    def test_mall_lost_authorize_answer_then_reverse(self):
        user = self._inscribe(self.mall, "bob")
        for kind, buy_order in (("drop", 60), ("malformed", 61)):
            self.simulator.inject_fault(kind, path=const.MALL_PATH, after_handling=True)
            with self.assertRaises(oc.AuthorizeUnknown) as caught:
                self.mall.authorize(
                    buy_order, user.tbk_user, "bob", [(STORE_A, f"a-{buy_order}", 900)]
                )
            unknown = caught.exception
            self.assertEqual(unknown.buy_order, buy_order)
            self.assertTrue(0 < unknown.reverse_seconds_left() <= const.MALL_REVERSE_WINDOW_SECONDS)
            operation = self.simulator.oneclick_mall_operation(buy_order)
            self.assertEqual(operation["parts"][0]["status"], "AUTHORIZED")  # it was charged
            self.assertTrue(self.mall.reverse(unknown.buy_order).reversed)
            self.assertEqual(operation["parts"][0]["status"], "REVERSED")

    def test_mall_nullify_and_reverse_nullification(self):
        _user, result = self._mall_payment(buy_order=70)
        store = result.detail(STORE_A, "a-1")
        code = store.authorization_code
        with self.assertRaises(SoapFault) as caught:
            self.mall.nullify(STORE_A, "a-1", "999999", 1000, 100)
        self.assertEqual(caught.exception.code, sim_oc.NOT_FOUND)

        refund = self.mall.nullify(STORE_A, "a-1", code, 1000, 400)
        self.assertEqual(refund.type, "NULLIFIED")
        self.assertTrue(refund.accepted)
        self.assertEqual((refund.nullified_amount, refund.balance), (400, 600))
        self.assertTrue(refund.authorization_code)
        with self.assertRaises(SoapFault) as caught:  # above the balance
            self.mall.nullify(STORE_A, "a-1", code, 1000, 700)
        self.assertEqual(caught.exception.code, sim_oc.AMOUNT_EXCEEDS)
        with self.assertRaises(SoapFault) as caught:  # one partial nullification only
            self.mall.nullify(STORE_A, "a-1", code, 1000, 100)
        self.assertEqual(caught.exception.code, sim_oc.NULLIFY_ERROR)

        undone = self.mall.reverse_nullification(STORE_A, "a-1", 400)
        self.assertTrue(undone.reversed)
        self.assertTrue(undone.reverse_code)
        self.assertEqual(self.mall.reverse_nullification(STORE_A, "a-1", 400), undone)
        self.assertFalse(self.mall.reverse_nullification(STORE_A, "a-1", 123).reversed)
        self.assertEqual(self.simulator.oneclick_mall_operation(70)["parts"][0]["balance"], 1000)

        full = self.mall.nullify(STORE_A, "a-1", code, 1000, 1000)
        self.assertEqual(full.balance, 0)
        with self.assertRaises(SoapFault) as caught:
            self.mall.nullify(STORE_A, "a-1", code, 1000, 1)
        self.assertEqual(caught.exception.code, sim_oc.ALREADY_REVERSED)

    def test_mall_nullify_rules(self):
        user = self._inscribe(self.mall, "bob")
        result = self.mall.authorize(80, user.tbk_user, "bob", [(STORE_A, "a-80", 3000, 3)])
        detail = result.details[0]
        self.assertEqual((detail.installments_number, detail.installments_amount), (3, 1000))
        with self.assertRaises(SoapFault) as caught:
            self.mall.nullify(STORE_A, "a-80", detail.authorization_code, 3000, 1000)
        self.assertEqual(caught.exception.code, sim_oc.NO_PARTIAL_INSTALLMENTS)
        self.simulator.oneclick_age(80, 91 * 86400)
        with self.assertRaises(SoapFault) as caught:
            self.mall.nullify(STORE_A, "a-80", detail.authorization_code, 3000, 3000)
        self.assertEqual(caught.exception.code, sim_oc.PERIOD_EXCEEDED)

    def test_mall_capture_of_deferred_store(self):
        self.simulator.deferred_codes.add(STORE_B)
        self.addCleanup(self.simulator.deferred_codes.discard, STORE_B)
        _user, result = self._mall_payment(buy_order=90)
        deferred = result.detail(STORE_B, "b-1")
        immediate = result.detail(STORE_A, "a-1")
        with self.assertRaises(SoapFault) as caught:
            self.mall.capture(STORE_A, "a-1", immediate.authorization_code, 1000)
        self.assertEqual(caught.exception.code, sim_oc.NOT_DEFERRED)
        with self.assertRaises(SoapFault) as caught:  # capture before nullifying
            self.mall.nullify(STORE_B, "b-1", deferred.authorization_code, 2500, 2500)
        self.assertEqual(caught.exception.code, sim_oc.NOT_DEFERRED)
        with self.assertRaises(SoapFault) as caught:
            self.mall.capture(STORE_B, "b-1", deferred.authorization_code, 2501)
        self.assertEqual(caught.exception.code, sim_oc.AMOUNT_EXCEEDS)

        capture = self.mall.capture(STORE_B, "b-1", deferred.authorization_code, 2000)
        self.assertTrue(capture.accepted)
        self.assertEqual(capture.captured_amount, 2000)
        self.assertTrue(capture.authorization_code)
        with self.assertRaises(SoapFault) as caught:
            self.mall.capture(STORE_B, "b-1", deferred.authorization_code, 2000)
        self.assertEqual(caught.exception.code, sim_oc.ALREADY_CAPTURED)
        refund = self.mall.nullify(STORE_B, "b-1", deferred.authorization_code, 2000, 2000)
        self.assertEqual(refund.balance, 0)

        user = self._inscribe(self.mall, "dora")
        late = self.mall.authorize(91, user.tbk_user, "dora", [(STORE_B, "b-91", 500)])
        self.simulator.oneclick_age(91, 8 * 86400)
        with self.assertRaises(SoapFault) as caught:
            self.mall.capture(STORE_B, "b-91", late.details[0].authorization_code, 500)
        self.assertEqual(caught.exception.code, sim_oc.PERIOD_EXCEEDED)

    def test_mall_remove_inscription(self):
        user = self._inscribe(self.mall, "bob")
        self.assertTrue(self.mall.remove_inscription(user.tbk_user, "bob"))
        self.assertFalse(self.mall.remove_inscription(user.tbk_user, "bob"))
        with self.assertRaises(SoapFault):
            self.mall.authorize(100, user.tbk_user, "bob", [(STORE_A, "a-100", 100)])

    def test_services_are_separate(self):
        # A Normal inscription is no Mall one, and the Normal token finishes nothing there.
        start = self.normal.init_inscription("ana", "ana@example.com", RETURN_URL)
        requests.post(start.url, data=start.form_fields, timeout=5)
        with self.assertRaises(SoapFault):
            self.mall.finish_inscription(start.token)
        wsdl = requests.get(f"{self.simulator.url}{const.MALL_PATH}?wsdl", timeout=5)
        self.assertIn("reverseNullification", wsdl.text)
        self.assertIn(f"{self.simulator.url}{const.MALL_PATH}", wsdl.text)

    # --- signatures and faults ---

    def test_untrustworthy_answers_are_refused(self):
        user = self._inscribe(self.mall, "bob")
        switches = ("sign_responses", "tamper_responses", "sign_with_wrong_key")
        for number, (switch, value) in enumerate(zip(switches, (False, True, True), strict=True)):
            setattr(self.simulator, switch, value)
            try:
                with self.assertRaises(SignatureInvalid):
                    self.mall.remove_inscription("someone", "else")
                with self.assertRaises(SignatureInvalid):
                    self.normal.init_inscription("ana", "ana@example.com", RETURN_URL)
                buy_order = 110 + number
                with self.assertRaises(oc.AuthorizeUnknown) as caught:
                    self.mall.authorize(
                        buy_order, user.tbk_user, "bob", [(STORE_A, f"a-{buy_order}", 100)]
                    )
                self.assertIsInstance(caught.exception.__cause__, SignatureInvalid)
                # Transbank did charge: an unverified answer is no refusal.
                self.assertIsNotNone(self.simulator.oneclick_mall_operation(buy_order))
            finally:
                setattr(self.simulator, switch, not value)
        self.assertTrue(self.mall.remove_inscription(user.tbk_user, "bob"))

    def test_request_signed_by_unknown_certificate_changes_nothing(self):
        key, certificate = make_key_and_certificate("not a merchant of Transbank")
        stranger = self._client(oc.OneclickMallClient, INTEGRATION_MALL, key, certificate)
        user = self._inscribe(self.mall, "bob")
        with self.assertRaises(SoapFault):
            stranger.remove_inscription(user.tbk_user, "bob")
        self.assertEqual(len(self.simulator.oneclick_users("mall")), 1)

    def test_forced_fault_on_authorize_is_a_refusal(self):
        user = self._inscribe(self.normal)
        self.simulator.forced_faults["authorize"] = 315
        with self.assertRaises(SoapFault) as caught:
            self.normal.authorize(120, user.tbk_user, "ana", 1000)
        self.assertNotIsInstance(caught.exception, WebpayUnknownOutcome)
        self.assertEqual(caught.exception.code, 315)
        self.assertIsNone(self.simulator.oneclick_normal_payment(120))
