import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from odoo.tests import BaseCase, tagged

from odoo.addons.payment_latam.simulators.etpay import (
    SANDBOX_API_TOKEN,
    SANDBOX_MERCHANT_CODE,
    EtpaySimulator,
    sign_jwt,
)

TIMEOUT = 5  # seconds


def _b64decode(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify_hs256(token, key):
    """Check the signature by hand (not with the simulator's code) and return the claims."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    expected = hmac.new(
        key.encode("utf-8"), f"{header_b64}.{payload_b64}".encode("ascii"), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(expected, _b64decode(signature_b64)):
        raise AssertionError("bad JWT signature")
    if json.loads(_b64decode(header_b64))["alg"] != "HS256":
        raise AssertionError("not HS256")
    return json.loads(_b64decode(payload_b64))


class _Receiver(ThreadingHTTPServer):
    """The merchant's webhook endpoint: records each body and answers `status`."""

    daemon_threads = True

    def __init__(self, status=200):
        self.bodies = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(
                    (self.headers.get("Content-Type"), json.loads(self.rfile.read(length)))
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/payment/etpay/webhook"


@tagged("post_install", "-at_install", "payment_latam", "simulators")
class TestEtpaySimulator(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gateway = EtpaySimulator().start()
        cls.addClassCleanup(cls.gateway.stop)

    def setUp(self):
        super().setUp()
        self.gateway.reset()

    def start_receiver(self, status=200):
        receiver = _Receiver(status)
        thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.1})
        thread.daemon = True
        thread.start()
        self.addCleanup(receiver.server_close)
        self.addCleanup(receiver.shutdown)
        return receiver

    def post(self, path, payload):
        return requests.post(f"{self.gateway.url}{path}", json=payload, timeout=TIMEOUT)

    def initialize(self, **fields):
        payload = {
            "merchant_code": SANDBOX_MERCHANT_CODE,
            "merchant_api_token": SANDBOX_API_TOKEN,
            "merchant_order_id": "S00042-1",
            "order_amount": 15990,
            "payment_completed_url": "https://shop.example/payment/etpay/return",
            "payment_cancellation_url": "https://shop.example/payment/etpay/cancel",
            **fields,
        }
        return self.post("/session/initialize", payload)

    def status(self, **keys):
        payload = {"merchant_code": SANDBOX_MERCHANT_CODE, "merchant_api_token": SANDBOX_API_TOKEN}
        return self.post("/merchant/check_payment_status", {**payload, **keys})

    def test_initialize_creates_a_session(self):
        response = self.initialize(metadata=[{"name": "Pedido", "value": "S00042", "show": True}])
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertRegex(body["token"], r"^[A-Za-z0-9]{64}$")
        self.assertRegex(body["signature_token"], r"^[A-Za-z0-9]{64}$")
        self.assertEqual(body["terms_url"], f"{self.gateway.url}/terminos_y_condiciones.pdf")
        session = self.gateway.session(body["token"])
        self.assertEqual(session["merchant_order_id"], "S00042-1")
        self.assertEqual(session["order_amount"], 15990)
        self.assertEqual(session["merchant_code"], SANDBOX_MERCHANT_CODE)
        self.assertIsNone(session["decision"])

    def test_initialize_refuses_unknown_credentials(self):
        response = self.initialize(merchant_api_token="not-the-token")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json(), {"message": "Invalid merchant credentials"})
        self.assertEqual(self.gateway.sessions, {})

    def test_initialize_refuses_float_amount_and_bad_order_id(self):
        for fields in ({"order_amount": 15990.0}, {"merchant_order_id": "S00042/1"}):
            with self.subTest(fields=fields):
                response = self.initialize(**fields)
                self.assertEqual(response.status_code, 400)
                self.assertIn("message", response.json())
        self.assertEqual(self.gateway.sessions, {})

    def test_success_redirects_with_a_verifiable_jwt(self):
        session = self.initialize(user_rut="123456785").json()
        response = self.gateway.decide(session["token"], "success")
        self.assertEqual(response.status, 302)
        prefix = "https://shop.example/payment/etpay/return?jwt="
        location = response.headers["Location"]
        self.assertTrue(location.startswith(prefix), location)
        claims = verify_hs256(location[len(prefix) :], session["signature_token"])
        decided = self.gateway.session(session["token"])
        self.assertEqual(
            claims,
            {
                "session_token": session["token"],
                "payment_token": decided["payment_token"],
                "payment_status": "success",
                "merchant_order_id": "S00042-1",
                "user_rut": "123456785",
                "iat": claims["iat"],
            },
        )
        self.assertEqual(self.gateway.jwt_for(session["token"]), location[len(prefix) :])
        self.assertEqual(self.gateway.decide(session["token"], "success").status, 409)

    def test_cancellation_redirect_uses_concat_or_drops_the_jwt(self):
        first = self.initialize(
            payment_cancellation_url="https://shop.example/cancel?lang=es", concat="&"
        ).json()
        location = self.gateway.decide(first["token"], "cancelled").headers["Location"]
        self.assertTrue(location.startswith("https://shop.example/cancel?lang=es&jwt="))
        self.gateway.cancel_redirect_carries_jwt = False
        second = self.initialize(merchant_order_id="S00043-1").json()
        response = self.gateway.decide(second["token"], "error")
        self.assertEqual(response.headers["Location"], "https://shop.example/payment/etpay/cancel")

    def test_webhook_is_delivered_before_the_redirect(self):
        receiver = self.start_receiver()
        session = self.initialize(payment_webhook_url=receiver.url).json()
        self.gateway.decide(session["token"], "success")
        jwt = self.gateway.jwt_for(session["token"])
        self.assertEqual(receiver.bodies, [("application/json", {"payment": jwt})])
        self.assertEqual(
            self.gateway.webhook_deliveries,
            [{"url": receiver.url, "status": 200, "error": None, "jwt": jwt}],
        )
        self.assertEqual(self.gateway.resend_webhook(session["token"])["status"], 200)
        self.assertEqual(len(receiver.bodies), 2)

    def test_webhook_waits_in_after_redirect_mode(self):
        receiver = self.start_receiver(status=500)
        self.gateway.webhook_mode = "after_redirect"
        session = self.initialize(payment_webhook_url=receiver.url).json()
        self.assertEqual(self.gateway.decide(session["token"], "error").status, 302)
        self.assertEqual(receiver.bodies, [])
        deliveries = self.gateway.deliver_webhooks()
        self.assertEqual([d["status"] for d in deliveries], [500])
        self.assertEqual(len(receiver.bodies), 1)
        self.assertEqual(self.gateway.deliver_webhooks(), [])

    def test_status_lists_only_decided_sessions(self):
        paid = self.initialize(merchant_order_id="S00044-1").json()
        pending = self.initialize(merchant_order_id="S00045-1").json()
        self.gateway.decide(paid["token"], "success")
        self.assertEqual(self.status(session_token=pending["token"]).json(), [])
        self.assertEqual(self.status(merchant_order_id="S00045-1").json(), [])
        elements = self.status(merchant_order_id="S00044-1").json()
        self.assertEqual(len(elements), 1)
        self.assertEqual(elements[0]["session_token"], paid["token"])
        self.assertEqual(elements[0]["payment_status"], "success")
        self.assertEqual(elements[0]["order_amount"], 15990)
        self.gateway.status_overrides[paid["token"]] = {"payment_status": "pending"}
        self.assertEqual(
            self.status(session_token=paid["token"]).json()[0]["payment_status"], "pending"
        )
        self.assertEqual(self.gateway.status_calls(), 4)

    def test_status_needs_a_key_and_a_valid_token(self):
        response = self.status()
        self.assertEqual(response.status_code, 400)
        self.assertEqual(
            response.json(),
            {"message": "payment_token, merchant_order_id or session_token is required"},
        )
        response = self.post(
            "/merchant/check_payment_status",
            {"merchant_api_token": "wrong", "merchant_order_id": "S00042-1"},
        )
        self.assertEqual(response.status_code, 401)

    def test_funnel_page_and_autopilot(self):
        manual = self.initialize(user_rut="111111111", is_rut_block=True).json()
        page = requests.get(f"{self.gateway.url}/session/{manual['token']}", timeout=TIMEOUT)
        self.assertEqual(page.status_code, 200)
        for text in ("$ 15.990", 'id="etpay-success"', 'id="etpay-cancelled"', "readonly"):
            self.assertIn(text, page.text)
        self.gateway.autopilot = "cancelled"
        auto = self.initialize(merchant_order_id="S00046-1").json()
        response = requests.get(
            f"{self.gateway.url}/session/{auto['token']}", allow_redirects=False, timeout=TIMEOUT
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(
            response.headers["Location"].startswith(
                "https://shop.example/payment/etpay/cancel?jwt="
            )
        )
        self.assertEqual(self.gateway.session(auto["token"])["payment_status"], "cancelled")

    def test_expired_session_is_refused(self):
        session = self.initialize().json()
        self.gateway.clock.advance(self.gateway.session_lifetime + 1)
        page = requests.get(f"{self.gateway.url}/session/{session['token']}", timeout=TIMEOUT)
        self.assertEqual(page.status_code, 410)

    def test_sign_jwt_with_alg_none_has_an_empty_signature(self):
        forged = sign_jwt({"payment_status": "success"}, "key", header={"alg": "none"})
        header_b64, payload_b64, signature = forged.split(".")
        self.assertEqual(signature, "")
        self.assertEqual(json.loads(_b64decode(header_b64)), {"alg": "none"})
        self.assertEqual(json.loads(_b64decode(payload_b64)), {"payment_status": "success"})
        signed = sign_jwt({"a": 1}, "key")
        self.assertEqual(verify_hs256(signed, "key"), {"a": 1})
