"""The Webpay SOAP client (no Odoo models) against the SOAP simulator: Transbank's rules."""

import re
import time
from html import unescape

import requests
from lxml import etree

from odoo.tests import BaseCase, tagged

from odoo.addons.payment_latam.gateways import webpay_soap as soap
from odoo.addons.payment_latam.gateways import webpay_soap_const as const
from odoo.addons.payment_latam.gateways.webpay_rest import WebpayUnknownOutcome
from odoo.addons.payment_latam.gateways.wsse_signature import SignatureInvalid, Signer
from odoo.addons.payment_latam.simulators import webpay_soap as sim_module
from odoo.addons.payment_latam.simulators.test_pki import make_key_and_certificate
from odoo.addons.payment_latam.simulators.webpay_soap import WebpaySoapSimulator

NORMAL = const.INTEGRATION_NORMAL_COMMERCE_CODE
CAPTURE = const.INTEGRATION_CAPTURE_COMMERCE_CODE
MALL = const.INTEGRATION_MALL_COMMERCE_CODE
STORE_A, STORE_B = const.INTEGRATION_MALL_STORE_CODES
WEBPAY_PATH = const.WEBPAY_SERVICE_PATH
COMMERCE_PATH = const.COMMERCE_INTEGRATION_PATH
RETURN_URL = "https://shop.example/webpay/return"
FINAL_URL = "https://shop.example/webpay/final"


def form_of(page):
    """(action, {field: value}) of the auto-submitted form in a simulator page."""
    action = unescape(re.search(r'<form method="post" action="([^"]*)"', page).group(1))
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    return action, {name: unescape(value) for name, value in fields.items()}


class FakeMonotonic:
    """A clock that moves `step` seconds each time it is read."""

    def __init__(self, step):
        self.now, self.step = 1000.0, step

    def __call__(self):
        self.now += self.step
        return self.now


@tagged("post_install", "-at_install", "payment_latam", "webpay_soap")
class TestWebpaySoapClient(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = WebpaySoapSimulator().start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.key, cls.cert = make_key_and_certificate("merchant (tests)")
        cls.stranger_key, cls.stranger_cert = make_key_and_certificate("someone else")
        # Another merchant the simulator knows (registered where a test needs it).
        cls.other_key, cls.other_cert = make_key_and_certificate("another merchant")

    def setUp(self):
        super().setUp()
        sim = self.simulator
        sim.reset()
        sim.clear_faults()
        sim.reset_log()
        sim.inactive_codes.clear()
        for code in (NORMAL, CAPTURE, MALL):
            sim.register_merchant(code, self.cert)
        self.session = requests.Session()
        self.addCleanup(self.session.close)
        self.client = self._client(NORMAL)

    def _client(self, code, key=None, cert=None, **kwargs):
        kwargs.setdefault("timeout", (2, 2))
        return soap.WebpaySoapClient(
            self.simulator.url,
            code,
            key or self.key,
            cert or self.cert,
            self.simulator.transbank_certificate_pem,
            session=self.session,
            **kwargs,
        )

    def _pay(self, client=None, outcome="approve", buy_order="BO-1", amount=15000):
        client = client or self.client
        token, url = client.init_transaction(buy_order, "S-1", amount, RETURN_URL, FINAL_URL)
        self.simulator.autopilot = outcome
        page = self.session.post(url, data={"token_ws": token}, timeout=5)
        self.assertEqual(page.status_code, 200)
        return token, form_of(page.text)

    def _paid(self, client=None, buy_order="BO-1", amount=15000):
        client = client or self.client
        token, _ = self._pay(client, buy_order=buy_order, amount=amount)
        return token, client.confirm(token)

    # --- wire basics ---

    def test_commerce_code_prefix_and_fault_codes(self):
        self.assertEqual(soap.commerce_code_12("20000540"), "597020000540")
        self.assertEqual(soap.commerce_code_12("597020000540"), "597020000540")
        for bad in ("12345", "5970200005401", "59702000054X", ""):
            with self.assertRaises(ValueError):
                soap.commerce_code_12(bad)
        self.assertEqual(soap.fault_code("<!-- Timeout(272) -->"), 272)
        self.assertEqual(soap.fault_code(" 274 "), 274)
        self.assertEqual(soap.fault_code("Error (x) Transaction Not Found(274)"), 274)
        self.assertIsNone(soap.fault_code("Unexpected error"))
        self.assertEqual(soap.SoapFault(53, "x").reason, "no_partial_installments")

    def test_eight_digit_code_is_sent_with_prefix(self):
        client = self._client("20000540")
        token, url = client.init_transaction("BO-8", "S", 1000, RETURN_URL, FINAL_URL)
        self.assertEqual(self.simulator.transaction(token)["details"][0]["commerce_code"], NORMAL)
        self.assertTrue(url.startswith(self.simulator.url))

    def test_simulator_serves_the_wsdls_at_its_own_address(self):
        for path in (WEBPAY_PATH, COMMERCE_PATH):
            answer = self.session.get(f"{self.simulator.url}{path}?wsdl", timeout=5)
            self.assertEqual(answer.status_code, 200)
            self.assertIn(f'location="{self.simulator.url}{path}"', answer.text)
        certificate = self.session.get(
            f"{self.simulator.url}/__simulator__/transbank_certificate", timeout=5
        )
        self.assertEqual(certificate.text.encode(), self.simulator.transbank_certificate_pem)

    def test_requests_are_signed_and_timestamped(self):
        self.client.init_transaction("BO-2", "S", 1000, RETURN_URL, FINAL_URL)
        body = self.simulator.requests_to(WEBPAY_PATH, "POST")[-1].body
        self.assertIn(b"wsse:Security", body)
        self.assertIn(b"Timestamp", body)
        self.assertIn(b"<wSTransactionType>TR_NORMAL_WS</wSTransactionType>", body)
        self.assertIn(b"<amount>1000</amount>", body)
        self.assertEqual(self.client.timeout, (2, 2))
        self.assertEqual(soap.WebpaySoapClient.__init__.__defaults__[0], const.TIMEOUT)

    # --- the payment form and the browser's way back ---

    def test_form_outcomes_send_the_browser_where_the_spec_says(self):
        token, (action, fields) = self._pay(outcome="approve", buy_order="BO-A")
        self.assertEqual((action, fields), (RETURN_URL, {"token_ws": token}))
        token, (action, fields) = self._pay(outcome="reject", buy_order="BO-R")
        self.assertEqual((action, fields), (RETURN_URL, {"token_ws": token}))
        token, (action, fields) = self._pay(outcome="abort", buy_order="BO-X")
        self.assertEqual(action, FINAL_URL)
        self.assertEqual(
            fields, {"TBK_TOKEN": token, "TBK_ORDEN_COMPRA": "BO-X", "TBK_ID_SESION": "S-1"}
        )
        token, (action, fields) = self._pay(outcome="timeout", buy_order="BO-T")
        self.assertEqual(action, FINAL_URL)
        self.assertEqual(fields, {"TBK_ORDEN_COMPRA": "BO-T", "TBK_ID_SESION": "S-1"})
        token, (action, fields) = self._pay(outcome="form_error", buy_order="BO-E")
        self.assertEqual(action, FINAL_URL)
        self.assertEqual(fields, {"TBK_TOKEN": token, "token_ws": token})

    def test_form_shows_buttons_without_autopilot(self):
        token, url = self.client.init_transaction("BO-F", "S", 1000, RETURN_URL, FINAL_URL)
        page = self.session.post(url, data={"token_ws": token}, timeout=5).text
        for outcome in sim_module.OUTCOMES:
            self.assertIn(f'id="webpay-{outcome}"', page)
        decided = self.session.post(
            f"{url}/decide", data={"token_ws": token, "outcome": "approve"}, timeout=5
        )
        self.assertEqual(form_of(decided.text)[0], RETURN_URL)

    # --- result and acknowledge ---

    def test_approved_result_acknowledged_then_voucher(self):
        token, result = self._paid()
        self.assertIsInstance(result, soap.TransactionResult)
        self.assertTrue(result.approved)
        self.assertEqual(result.status, "AUTHORIZED")
        self.assertEqual(result.response_code, 0)
        self.assertEqual(
            (result.amount, result.buy_order, result.session_id), (15000, "BO-1", "S-1")
        )
        self.assertEqual(result.card_last4, "6623")
        self.assertEqual(result.payment_type_code, "VN")
        self.assertRegex(result.authorization_code, r"^\d{6}$")
        self.assertRegex(result.transaction_date, r"^\d{8}$")
        self.assertRegex(result.accounting_date, r"^\d{4}$")
        self.assertEqual(result.vci, "TSY")
        self.assertIsNone(result.balance)
        self.assertTrue(self.simulator.transaction(token)["acknowledged"])
        # The merchant sends the browser to the voucher; Webpay then goes to finalURL.
        voucher = self.session.post(result.url_redirection, data={"token_ws": token}, timeout=5)
        self.assertEqual(form_of(voucher.text), (FINAL_URL, {"token_ws": token}))

    def test_rejected_result(self):
        token, _ = self._pay(outcome="reject")
        result = self.client.confirm(token, buy_order="BO-1")
        self.assertFalse(result.approved)
        self.assertTrue(result.failed)
        self.assertEqual((result.status, result.response_code), ("FAILED", -1))

    def test_result_only_once(self):
        token, _ = self._paid()
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.get_transaction_result(token)
        self.assertEqual(caught.exception.code, sim_module.NOT_ALLOWED)

    def test_aborted_token_faults_272(self):
        token, _ = self._pay(outcome="abort")
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.confirm(token)
        self.assertEqual(caught.exception.code, const.ABORTED_CODE)
        self.assertEqual(caught.exception.reason, "aborted")

    def test_result_before_the_form_is_refused(self):
        token, _ = self.client.init_transaction("BO-3", "S", 1000, RETURN_URL, FINAL_URL)
        with self.assertRaises(soap.SoapFault):
            self.client.get_transaction_result(token)

    def test_acknowledge_after_30_seconds_transbank_reversed(self):
        token, _ = self._pay()
        result = self.client.get_transaction_result(token)
        self.assertTrue(result.approved)
        self.simulator.clock.advance(const.ACKNOWLEDGE_WINDOW_SECONDS + 1)
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.acknowledge(token)
        self.assertEqual(caught.exception.code, sim_module.ALREADY_REVERSED)
        self.assertEqual(self.simulator.transaction(token)["details"][0]["status"], "REVERSED")

    def test_acknowledge_refused_carries_the_result(self):
        token, _ = self._pay()
        self.simulator.forced_faults["acknowledgeTransaction"] = 315
        with self.assertRaises(soap.AcknowledgeRefused) as caught:
            self.client.confirm(token)
        self.assertEqual(caught.exception.code, 315)
        self.assertTrue(caught.exception.result.approved)

    def test_lost_result_is_never_acknowledged(self):
        token, _ = self._pay()
        self.simulator.inject_fault("drop", path=WEBPAY_PATH, after_handling=True)
        with self.assertRaises(soap.ResultNotAcknowledged):
            self.client.confirm(token)
        tx = self.simulator.transaction(token)
        self.assertIsNotNone(tx["result_read_at"])
        self.assertFalse(tx["acknowledged"])
        self.assertEqual(len(self.simulator.requests_to(WEBPAY_PATH, "POST")), 2)  # init + result
        self.simulator.clock.advance(const.ACKNOWLEDGE_WINDOW_SECONDS + 1)
        self.assertEqual(self.simulator.transaction(token)["details"][0]["status"], "REVERSED")

    def test_tampered_result_is_not_acknowledged(self):
        token, _ = self._pay()
        self.simulator.tamper_responses = True
        with self.assertRaises(soap.ResultNotAcknowledged) as caught:
            self.client.confirm(token)
        self.assertIsInstance(caught.exception.__cause__, SignatureInvalid)
        self.assertFalse(self.simulator.transaction(token)["acknowledged"])

    def test_lost_acknowledge_is_retried_inside_the_window(self):
        token, _ = self._pay()
        real = self.client.get_transaction_result

        def read_then_lose_next_answer(token, buy_order=None, timeout=None):
            result = real(token, buy_order=buy_order, timeout=timeout)
            self.simulator.inject_fault("drop", path=WEBPAY_PATH, after_handling=True)
            return result

        self.client.get_transaction_result = read_then_lose_next_answer
        result = self.client.confirm(token)
        self.assertTrue(result.approved)
        posts = self.simulator.requests_to(WEBPAY_PATH, "POST")
        self.assertEqual(sum(b"acknowledgeTransaction" in r.body for r in posts), 2)
        self.assertTrue(self.simulator.transaction(token)["acknowledged"])

    def test_acknowledge_unknown_once_the_window_closes(self):
        client = self._client(NORMAL, monotonic=FakeMonotonic(step=5))
        token, _ = self._pay(client)
        real = client.get_transaction_result

        def read_then_lose_all_answers(token, buy_order=None, timeout=None):
            result = real(token, buy_order=buy_order, timeout=timeout)
            self.simulator.inject_fault("drop", path=WEBPAY_PATH, times=0, after_handling=True)
            return result

        client.get_transaction_result = read_then_lose_all_answers
        with self.assertRaises(soap.AcknowledgeUnknown) as caught:
            client.confirm(token)
        self.simulator.clear_faults()
        self.assertTrue(caught.exception.result.approved)
        acks = [
            r
            for r in self.simulator.requests_to(WEBPAY_PATH, "POST")
            if b"acknowledgeTransaction" in r.body
        ]
        self.assertGreaterEqual(len(acks), 2)
        self.assertLess(len(acks), 6)  # stopped by the 30-second window, not looping

    # --- mall ---

    def test_mall_each_store_on_its_own(self):
        client = self._client(MALL)
        parts = [(STORE_A, "BO-A1", 10000), (STORE_B, "BO-B1", 5000)]
        token, url = client.init_mall_transaction("MALL-1", "S-M", RETURN_URL, FINAL_URL, parts)
        self.simulator.autopilot = "approve"
        self.simulator.rejected_stores = {STORE_B}
        self.session.post(url, data={"token_ws": token}, timeout=5)
        result = client.confirm(token, mall=True, buy_order="MALL-1")
        self.assertIsInstance(result, soap.MallResult)
        self.assertEqual((result.buy_order, result.session_id), ("MALL-1", "S-M"))
        store_a = result.detail(STORE_A, "BO-A1")
        store_b = result.detail(STORE_B, "BO-B1")
        self.assertTrue(store_a.approved)
        self.assertEqual(store_a.amount, 10000)
        self.assertFalse(store_b.approved)
        self.assertTrue(store_b.failed)
        body = self.simulator.requests_to(WEBPAY_PATH, "POST")[0].body
        self.assertIn(b"TR_MALL_WS", body)
        # The approved store's sale is nullified naming the store.
        refund = client.nullify(store_a.authorization_code, 10000, "BO-A1", 10000, STORE_A)
        self.assertEqual((refund.type, refund.balance), ("NULLIFIED", 0))
        with self.assertRaises(soap.SoapFault) as caught:  # the rejected one was never authorized
            client.nullify("000000", 5000, "BO-B1", 5000, STORE_B)
        self.assertIn(caught.exception.code, (274, 292))

    def test_mall_store_not_of_the_mall_is_refused(self):
        client = self._client(MALL)
        with self.assertRaises(soap.SoapFault) as caught:
            client.init_mall_transaction(
                "MALL-2", "S", RETURN_URL, FINAL_URL, [(NORMAL, "BO-N", 1000)]
            )
        self.assertEqual(caught.exception.code, 316)

    # --- capture ---

    def test_capture_and_its_error_codes(self):
        client = self._client(CAPTURE)
        _token, sale = self._paid(client, buy_order="CAP-1", amount=20000)
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture(sale.authorization_code, 25000, "CAP-1")
        self.assertEqual((caught.exception.code, caught.exception.reason), (311, "amount_exceeds"))
        captured = client.capture(sale.authorization_code, 18000, "CAP-1")
        self.assertTrue(captured.accepted)
        self.assertEqual(captured.captured_amount, 18000)
        self.assertEqual(self.simulator.sale(CAPTURE, "CAP-1")["status"], "CAPTURED")
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture(sale.authorization_code, 18000, "CAP-1")
        self.assertEqual(caught.exception.code, 309)
        # A capture names the buy order and authorization code of an existing sale.
        for code, buy_order in ((sale.authorization_code, "CAP-404"), ("999999", "CAP-1")):
            with self.assertRaises(soap.SoapFault) as caught:
                client.capture(code, 1000, buy_order)
            self.assertEqual(caught.exception.code, 274)

    def test_capture_refusals_by_state_and_commerce(self):
        _normal_token, normal = self._paid(buy_order="NOR-1")
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.capture(normal.authorization_code, 1000, "NOR-1")
        self.assertEqual(caught.exception.code, 16)  # not a deferred-capture sale
        client = self._client(CAPTURE)
        token, sale = self._paid(client, buy_order="CAP-2")
        self.simulator.age(token, 8 * 86400)
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture(sale.authorization_code, 1000, "CAP-2")
        self.assertEqual(caught.exception.code, 284)
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture(sale.authorization_code, 1000, "CAP-2", commerce_code="597011111111")
        self.assertEqual(caught.exception.code, 245)
        self.simulator.register_merchant("597099999999", self.other_cert)
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture(sale.authorization_code, 1000, "CAP-2", commerce_code="597099999999")
        self.assertEqual(caught.exception.code, 316)
        self.simulator.inactive_codes.add(CAPTURE)
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture(sale.authorization_code, 1000, "CAP-2")
        self.assertEqual(caught.exception.code, 22)
        self.simulator.inactive_codes.clear()
        self.simulator.forced_faults["capture"] = 315
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture(sale.authorization_code, 1000, "CAP-2")
        self.assertEqual(
            (caught.exception.code, caught.exception.reason), (315, "authorizer_error")
        )

    def test_capture_of_reversed_and_rejected_sales(self):
        client = self._client(CAPTURE)
        token, _ = self._pay(client, buy_order="CAP-3")
        sale = client.get_transaction_result(token)  # never acknowledged: reversed after 30 s
        self.simulator.clock.advance(31)
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture(sale.authorization_code, 1000, "CAP-3")
        self.assertEqual(caught.exception.code, 310)
        token, _ = self._pay(client, outcome="reject", buy_order="CAP-4")
        client.confirm(token)
        with self.assertRaises(soap.SoapFault) as caught:
            client.capture("000000", 1000, "CAP-4")
        self.assertEqual(caught.exception.code, 292)

    # --- nullify ---

    def test_nullify_partial_once(self):
        _token, sale = self._paid(buy_order="NUL-1", amount=10000)
        first = self.client.nullify(sale.authorization_code, 10000, "NUL-1", 3000)
        self.assertEqual(first.type, "NULLIFIED")
        self.assertTrue(first.accepted)
        self.assertEqual((first.nullified_amount, first.balance), (3000, 7000))
        self.assertRegex(first.authorization_code, r"^\d{6}$")
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.nullify(sale.authorization_code, 10000, "NUL-1", 1000)
        self.assertEqual(caught.exception.code, 312)
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.nullify(sale.authorization_code, 10000, "NUL-1", 8000)
        self.assertEqual(caught.exception.code, 311)
        rest = self.client.nullify(sale.authorization_code, 10000, "NUL-1", 7000)
        self.assertEqual(rest.balance, 0)
        self.assertEqual(self.simulator.sale(NORMAL, "NUL-1")["status"], "NULLIFIED")
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.nullify(sale.authorization_code, 10000, "NUL-1", 7000)
        self.assertEqual(caught.exception.code, 310)

    def test_nullify_codes(self):
        self.simulator.payment_type_code = "VC"
        self.simulator.shares_number = 3
        token, sale = self._paid(buy_order="NUL-2", amount=9000)
        self.assertEqual(sale.installments_number, 3)
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.nullify(sale.authorization_code, 9000, "NUL-2", 1000)
        self.assertEqual(
            (caught.exception.code, caught.exception.reason), (53, "no_partial_installments")
        )
        self.simulator.age(token, 91 * 86400)
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.nullify(sale.authorization_code, 9000, "NUL-2", 9000)
        self.assertEqual(caught.exception.code, 284)
        with self.assertRaises(soap.SoapFault) as caught:
            self.client.nullify(sale.authorization_code, 9000, "NUL-404", 9000)
        self.assertEqual(caught.exception.code, 274)

    def test_nullify_deferred_sale_uses_the_capture(self):
        client = self._client(CAPTURE)
        _token, sale = self._paid(client, buy_order="CAP-N", amount=12000)
        with self.assertRaises(soap.SoapFault) as caught:  # not captured yet
            client.nullify(sale.authorization_code, 12000, "CAP-N", 12000)
        self.assertEqual(caught.exception.code, 16)
        captured = client.capture(sale.authorization_code, 10000, "CAP-N")
        refund = client.nullify(captured.authorization_code, 10000, "CAP-N", 10000)
        self.assertEqual((refund.nullified_amount, refund.balance), (10000, 0))

    # --- the simulator refuses untrusted requests, changing nothing ---

    def _raw_init(self, signer=None, now=None, edit=None):
        envelope = etree.fromstring(
            f"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body><ns0:initTransaction xmlns:ns0="{const.SERVICE_NS}"><wsInitTransactionInput>
<wSTransactionType>TR_NORMAL_WS</wSTransactionType><sessionId>S</sessionId>
<returnURL>{RETURN_URL}</returnURL><finalURL>{FINAL_URL}</finalURL>
<transactionDetails><amount>1000</amount><commerceCode>{NORMAL}</commerceCode>
<buyOrder>RAW-1</buyOrder></transactionDetails></wsInitTransactionInput>
</ns0:initTransaction></soap:Body></soap:Envelope>""".encode()
        )
        if signer:
            signer.sign(envelope, now=now)
        data = etree.tostring(envelope)
        if edit:
            data = edit(data)
        return self.session.post(
            self.simulator.url + WEBPAY_PATH,
            data=data,
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=5,
        )

    def assertRefusedWithoutEffect(self, answer):
        self.assertEqual(answer.status_code, 500)
        self.assertIn(b"Fault", answer.content)
        self.assertIn(b"InvalidSecurity", answer.content)
        self.assertEqual(self.simulator.transactions, {})

    def test_simulator_accepts_a_well_signed_request(self):
        answer = self._raw_init(Signer(self.key, self.cert))
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(len(self.simulator.transactions), 1)

    def test_simulator_refuses_unsigned_request(self):
        self.assertRefusedWithoutEffect(self._raw_init())

    def test_simulator_refuses_tampered_request(self):
        edit = lambda data: data.replace(b"<amount>1000</amount>", b"<amount>1</amount>")  # noqa: E731
        self.assertRefusedWithoutEffect(self._raw_init(Signer(self.key, self.cert), edit=edit))

    def test_simulator_refuses_unregistered_certificate(self):
        signer = Signer(self.stranger_key, self.stranger_cert)
        self.assertRefusedWithoutEffect(self._raw_init(signer))

    def test_simulator_refuses_forged_key_info(self):
        signer = Signer(self.stranger_key, self.cert)  # names our certificate, another key
        self.assertRefusedWithoutEffect(self._raw_init(signer))

    def test_simulator_refuses_stale_or_future_timestamp(self):
        signer = Signer(self.key, self.cert)
        self.assertRefusedWithoutEffect(self._raw_init(signer, now=time.time() - 600))
        self.assertRefusedWithoutEffect(self._raw_init(signer, now=time.time() + 600))

    def test_simulator_refuses_dtd(self):
        edit = lambda data: b'<!DOCTYPE x [<!ENTITY e "1">]>' + data  # noqa: E731
        self.assertRefusedWithoutEffect(self._raw_init(Signer(self.key, self.cert), edit=edit))

    def test_client_with_unregistered_certificate_gets_a_fault(self):
        client = self._client(NORMAL, key=self.stranger_key, cert=self.stranger_cert)
        with self.assertRaises(soap.SoapFault) as caught:
            client.init_transaction("BO-Z", "S", 1000, RETURN_URL, FINAL_URL)
        self.assertIsNone(caught.exception.code)
        self.assertEqual(self.simulator.transactions, {})

    def test_tampered_result_request_changes_nothing(self):
        token, _ = self._pay()
        signer = Signer(self.key, self.cert)
        envelope = etree.fromstring(
            f"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<ns0:getTransactionResult xmlns:ns0="{const.SERVICE_NS}"><tokenInput>nothing</tokenInput>
</ns0:getTransactionResult></soap:Body></soap:Envelope>""".encode()
        )
        data = etree.tostring(signer.sign(envelope)).replace(b"nothing", token.encode())
        answer = self.session.post(self.simulator.url + WEBPAY_PATH, data=data, timeout=5)
        self.assertEqual(answer.status_code, 500)
        self.assertIsNone(self.simulator.transaction(token)["result_read_at"])

    # --- the client refuses untrusted answers ---

    def test_client_refuses_unsigned_tampered_and_wrongly_signed_answers(self):
        for switch in ("sign_responses", "tamper_responses", "sign_with_wrong_key"):
            self.simulator.reset()
            setattr(self.simulator, switch, switch != "sign_responses")
            with self.assertRaises(SignatureInvalid, msg=switch):
                self.client.init_transaction("BO-S", "S", 1000, RETURN_URL, FINAL_URL)

    def test_untrusted_capture_answer_is_an_unknown_outcome(self):
        client = self._client(CAPTURE)
        _token, sale = self._paid(client, buy_order="CAP-T")
        self.simulator.tamper_responses = True
        with self.assertRaises(WebpayUnknownOutcome) as caught:
            client.capture(sale.authorization_code, 1000, "CAP-T")
        self.assertIsInstance(caught.exception, SignatureInvalid)
        # The money did move: that is why the answer must be treated as unknown.
        self.assertEqual(self.simulator.sale(CAPTURE, "CAP-T")["status"], "CAPTURED")

    def test_untrusted_fault_is_not_a_refusal(self):
        self.simulator.sign_responses = False
        with self.assertRaises(SignatureInvalid):
            self.client.get_transaction_result("no-such-token")

    def test_dtd_in_an_answer(self):
        xxe = (
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            b"<soap:Body><x>&x;</x></soap:Body></soap:Envelope>"
        )
        self.simulator.inject_fault("status", path=WEBPAY_PATH, status=200, body=xxe)
        with self.assertRaises(SignatureInvalid):
            self.client.init_transaction("BO-D", "S", 1000, RETURN_URL, FINAL_URL)

    # --- lost and broken answers ---

    def test_lost_answers_are_unknown_outcomes(self):
        client = self._client(CAPTURE)
        _token, sale = self._paid(client, buy_order="CAP-L")
        self.simulator.inject_fault("drop", path=COMMERCE_PATH, after_handling=True)
        with self.assertRaises(WebpayUnknownOutcome) as caught:
            client.capture(sale.authorization_code, 1000, "CAP-L")
        self.assertNotIsInstance(caught.exception, SignatureInvalid)
        self.assertEqual(self.simulator.sale(CAPTURE, "CAP-L")["status"], "CAPTURED")

    def test_every_call_has_a_timeout(self):
        _token, sale = self._paid(buy_order="NUL-T", amount=5000)
        self.simulator.inject_fault("delay", path=COMMERCE_PATH, seconds=4, after_handling=True)
        started = time.monotonic()
        with self.assertRaises(WebpayUnknownOutcome):
            self.client.nullify(sale.authorization_code, 5000, "NUL-T", 5000)
        self.assertLess(time.monotonic() - started, 3.5)
        self.assertEqual(self.simulator.sale(NORMAL, "NUL-T")["status"], "NULLIFIED")
        # The per-call timeout override did not stick.
        service = self.client._service(const.COMMERCE_INTEGRATION_WSDL)
        self.assertEqual(service.transport.operation_timeout, (2, 2))

    def test_server_error_and_garbage_are_unknown_outcomes(self):
        for kind, options in (
            ("status", {"status": 503, "body": "<html>down</html>"}),
            ("status", {"status": 500, "body": ""}),
            ("malformed", {"body": "<soap:Envelope"}),
        ):
            self.simulator.inject_fault(kind, path=WEBPAY_PATH, **options)
            with self.assertRaises(WebpayUnknownOutcome, msg=(kind, options)) as caught:
                self.client.init_transaction("BO-G", "S", 1000, RETURN_URL, FINAL_URL)
            self.assertNotIsInstance(caught.exception, soap.SoapFault)

    # --- answers about something else ---

    def test_answers_about_another_sale_are_unknown(self):
        class Stub:
            def __init__(self, answer):
                self.answer = answer

            def call(self, operation, **kwargs):
                return self.answer

        detail = {"amount": 1000, "commerceCode": NORMAL, "buyOrder": "OTHER", "responseCode": 0}
        self.client._services[const.WEBPAY_WSDL] = Stub(
            {"buyOrder": "OTHER", "detailOutput": [detail]}
        )
        with self.assertRaises(WebpayUnknownOutcome):
            self.client.get_transaction_result("t", buy_order="BO-1")
        detail["commerceCode"] = "597000000001"  # a detail of another commerce
        with self.assertRaises(WebpayUnknownOutcome):
            self.client.get_transaction_result("t")
        self.client._services[const.COMMERCE_INTEGRATION_WSDL] = Stub(
            {"authorizationCode": "1", "nullifiedAmount": 500, "balance": 500}
        )
        with self.assertRaises(WebpayUnknownOutcome):
            self.client.nullify("1", 1000, "BO-1", 400)  # answered 500, asked 400
        self.client._services[const.COMMERCE_INTEGRATION_WSDL] = Stub(
            {"authorizationCode": "1", "capturedAmount": 900}
        )
        with self.assertRaises(WebpayUnknownOutcome):
            self.client.capture("1", 1000, "BO-1")
