import base64
import json
import logging
import time

from odoo.tests import tagged

from odoo.addons.payment_latam.simulators.etpay import TEST_PAYER_RUT, sign_jwt
from odoo.addons.payment_latam.tests.etpay_common import EtpayCommon

FLOW_LOGGER = "odoo.addons.payment_latam"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@tagged("post_install", "-at_install", "payment_latam", "etpay")
class TestEtpayJwtAttacks(EtpayCommon):
    """Every forged, foreign or malformed notification: a clear answer, a log line
    without the token, and no state change."""

    def setUp(self):
        super().setUp()
        self.simulator.webhook_mode = "never"
        self.tx, _form = self._open_etpay_transaction()
        self.key = self._signature_token(self.tx)

    def _claims(self, tx=None, **overrides):
        tx = tx or self.tx
        return {
            "session_token": tx.provider_reference,
            "merchant_order_id": tx.reference,
            "payment_status": "success",
            "payment_token": "forged-payment",
            "user_rut": TEST_PAYER_RUT,
            **overrides,
        }

    def _assert_refused(self, jwt, status, tx=None):
        """POST `jwt` as ETpay's webhook: refused with `status`, nothing changed, not logged."""
        tx = tx or self.tx
        state, changed_at = tx.state, tx.last_state_change
        with self.assertLogs(FLOW_LOGGER, level=logging.WARNING) as logs:
            response = self._post_webhook({"payment": jwt})
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["status"], "error")
        self.assertNotIn("Traceback", response.text)
        tx.invalidate_recordset()
        self.assertEqual(tx.state, state)
        self.assertEqual(tx.last_state_change, changed_at)
        self.assertFalse(tx.etpay_payment_token)
        for line in logs.output:
            self.assertNotIn(jwt, line)
            self.assertNotIn(TEST_PAYER_RUT, line)
        return response

    def test_a_jwt_signed_with_another_key_is_refused(self):
        self._assert_refused(sign_jwt(self._claims(), "not-the-signature-token"), 403)

    def test_alg_none_is_refused(self):
        jwt = sign_jwt(self._claims(), self.key, header={"alg": "none", "typ": "JWT"})
        self.assertTrue(jwt.endswith("."), "an unsigned token")
        self._assert_refused(jwt, 403)

    def test_another_algorithm_is_refused_even_with_the_right_key(self):
        for alg in ("HS512", "RS256", "hs256"):
            with self.subTest(alg=alg):
                jwt = sign_jwt(self._claims(), self.key, header={"alg": alg, "typ": "JWT"})
                self._assert_refused(jwt, 403)

    def test_tampered_claims_are_refused(self):
        genuine = sign_jwt(self._claims(payment_status="error"), self.key)
        header, _payload, signature = genuine.split(".")
        tampered = _b64(json.dumps(self._claims(payment_status="success")).encode())
        self._assert_refused(f"{header}.{tampered}.{signature}", 403)

    def test_a_valid_jwt_of_another_session_is_refused(self):
        other, _form = self._open_etpay_transaction(reference="ET-OTHER-1")
        # Signed with our session's key but naming the other session: its key refuses it.
        self._assert_refused(sign_jwt(self._claims(tx=other), self.key), 403, tx=other)
        self.assertEqual(self.tx.state, "draft")

    def test_a_valid_jwt_naming_another_order_is_refused(self):
        other, _form = self._open_etpay_transaction(reference="ET-OTHER-2")
        jwt = sign_jwt(self._claims(merchant_order_id=other.reference), self.key)
        self._assert_refused(jwt, 403)
        self.assertEqual(other.state, "draft")

    def test_an_expired_jwt_is_refused(self):
        jwt = sign_jwt(self._claims(exp=int(time.time()) - 3600), self.key)
        self._assert_refused(jwt, 403)

    def test_an_unknown_session_is_not_found(self):
        jwt = sign_jwt(self._claims(session_token="no-such-session"), self.key)
        self._assert_refused(jwt, 404)

    def test_malformed_bodies_get_a_clear_400(self):
        for body in (b"not json", b"[]", b'{"payment": 42}', b"{}", b"\xff\xfe"):
            with self.subTest(body=body), self.assertLogs(FLOW_LOGGER, logging.WARNING):
                response = self._post_webhook(body)
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["status"], "error")
        self._assert_refused("abc.def", 400)
        self._assert_refused("a.b.c", 400)
        self.assertEqual(self.tx.state, "draft")

    def test_a_forged_jwt_on_the_return_changes_nothing_and_asks_nothing(self):
        jwt = sign_jwt(self._claims(), "not-the-signature-token")
        with self.assertLogs(FLOW_LOGGER, logging.WARNING) as logs:
            response = self.url_open(
                self._build_url(f"/payment/etpay/return?jwt={jwt}"), allow_redirects=False
            )
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/payment/status"))
        self.assertEqual(self.tx.state, "draft")
        self.assertEqual(self._status_calls(), 0)
        self.assertFalse([line for line in logs.output if jwt in line])

    def test_the_genuine_jwt_still_works_after_the_attacks(self):
        self._assert_refused(sign_jwt(self._claims(), "wrong"), 403)
        self._through_odoo(self.simulator.decide, self.tx.provider_reference, "success")
        jwt = self.simulator.jwt_for(self.tx.provider_reference)
        self.assertEqual(self._post_webhook({"payment": jwt}).status_code, 200)
        self.assertEqual(self.tx.state, "done")

    def test_the_access_log_never_shows_a_jwt(self):
        from odoo.addons.payment_latam.controllers.log_redaction import UrlSecretsFilter

        werkzeug_filters = logging.getLogger("werkzeug").filters
        self.assertTrue([f for f in werkzeug_filters if isinstance(f, UrlSecretsFilter)])
        jwt = sign_jwt(self._claims(), self.key)
        record = logging.LogRecord(
            "werkzeug",
            logging.INFO,
            __file__,
            1,
            '"%s" %s %s',
            (f"GET /payment/etpay/return?jwt={jwt}&x=1 HTTP/1.1", "303", "-"),
            None,
        )
        UrlSecretsFilter().filter(record)
        line = record.getMessage()
        self.assertNotIn(jwt, line)
        self.assertIn("jwt=[redacted]&x=1", line)
