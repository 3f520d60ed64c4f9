from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.simulators.webpay_oneclick import INSCRIPTION_FORM_PATH
from odoo.addons.payment_latam.tests.webpay_common import WebpayCommon

ONECLICK_LOGGER = "odoo.addons.payment_latam.models.webpay_oneclick"
AUTHORIZE = r"/oneclick/v1\.2/transactions$"


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpayOneclick(WebpayCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.allow_tokenization = True
        cls.partner.email = "camila.rojas@example.cl"

    def setUp(self):
        super().setUp()
        with self.transbank.state_lock:
            self.transbank._oneclick_setup()  # the database rolled back: so does Transbank

    def _start_saving_a_card(self, reference="WP-SAVE-1", **values):
        tx = self._create_transaction("redirect", reference=reference, tokenize=True, **values)
        processing_values = tx._get_processing_values()
        form = self._extract_values_from_html_form(processing_values["redirect_form_html"])
        return tx, form

    def _inscription_return(self, token, method="POST"):
        url = self._build_url("/payment/webpay/oneclick/return")
        if method == "GET":
            return self._make_http_get_request(url, {"TBK_TOKEN": token})
        return self._make_http_post_request(url, {"TBK_TOKEN": token})

    def _save_card(self, reference="WP-SAVE-1"):
        tx, form = self._start_saving_a_card(reference)
        self.transbank._decide_inscription(form["inputs"]["TBK_TOKEN"], "accept")
        self._inscription_return(form["inputs"]["TBK_TOKEN"])
        return tx

    def _authorizations(self):
        return self.transbank.requests_to(AUTHORIZE, method="POST")

    def test_save_my_card_runs_the_inscription_then_pays_with_the_new_token(self):
        tx, form = self._start_saving_a_card()
        self.assertEqual(form["action"], f"{self.transbank.url}{INSCRIPTION_FORM_PATH}")
        self.assertEqual(list(form["inputs"]), ["TBK_TOKEN"])
        (start,) = self.transbank.requests_to(r"/oneclick/v1\.2/inscriptions$", method="POST")
        self.assertEqual(start.header("Tbk-Api-Key-Id"), "597055555541")
        self.assertEqual(start.json()["email"], "camila.rojas@example.cl")
        self.assertTrue(start.json()["response_url"].endswith("/payment/webpay/oneclick/return"))

        self.transbank._decide_inscription(form["inputs"]["TBK_TOKEN"], "accept")
        response = self._inscription_return(form["inputs"]["TBK_TOKEN"])
        self.assertEqual(response.status_code, 200)

        token = tx.token_id
        (inscription,) = self.transbank.active_inscriptions()
        self.assertEqual(token.provider_ref, inscription["tbk_user"])
        self.assertEqual(token.webpay_oneclick_username, inscription["username"])
        self.assertEqual(token.payment_details, "6623")
        self.assertEqual(token.partner_id, self.partner)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_product, "oneclick")
        self.assertTrue(tx.webpay_authorization_code)
        (authorize,) = self._authorizations()
        payload = authorize.json()
        self.assertEqual(payload["tbk_user"], inscription["tbk_user"])
        self.assertEqual(payload["buy_order"], tx.reference)
        self.assertEqual(
            payload["details"],
            [
                {
                    "commerce_code": "597055555542",
                    "buy_order": tx.webpay_store_buy_order,
                    "amount": 15990,
                    "installments_number": 1,
                }
            ],
        )

    def test_aborted_inscription_saves_nothing_and_charges_nothing(self):
        tx, form = self._start_saving_a_card()
        self.transbank._decide_inscription(form["inputs"]["TBK_TOKEN"], "abort")
        self._inscription_return(form["inputs"]["TBK_TOKEN"], method="GET")
        self.assertEqual(tx.state, "cancel")
        self.assertFalse(tx.token_id)
        self.assertFalse(self._authorizations())

    def test_refreshed_inscription_return_finishes_and_charges_once(self):
        tx = self._save_card()
        self._inscription_return(tx.webpay_inscription_token)
        self.assertEqual(tx.state, "done")
        finishes = self.transbank.requests_to(r"/oneclick/v1\.2/inscriptions/[^/]+$", method="PUT")
        self.assertEqual(len(finishes), 1)
        self.assertEqual(len(self._authorizations()), 1)

    def test_forged_inscription_token_changes_nothing(self):
        tx, _form = self._start_saving_a_card()
        with mute_logger("odoo.addons.payment_latam.controllers.webpay"):
            self._inscription_return("forged-token")
            self._inscription_return("")
        self.assertEqual(tx.state, "draft")
        self.assertFalse(self.transbank.requests_to(r"/inscriptions/", method="PUT"))

    def test_paying_with_a_saved_card_is_authorized_server_side(self):
        token = self._save_card().token_id
        tx = self._create_transaction("token", reference="WP-TOKEN-2", token_id=token.id)
        tx._send_payment_request()
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_card_last4, "6623")
        self.assertEqual(len(self._authorizations()), 2)
        tx._send_payment_request()  # a repeated call must not charge again
        self.assertEqual(len(self._authorizations()), 2)

    def test_a_saved_card_never_pays_in_another_currency(self):
        token = self._save_card().token_id
        tx = self._create_transaction(
            "token", reference="WP-TOKEN-USD", token_id=token.id, currency_id=self.currency_usd.id
        )
        with self.assertRaisesRegex(ValidationError, "pesos"), self.env.cr.savepoint():
            tx._send_payment_request()
        self.assertEqual(len(self._authorizations()), 1, "only the first, in pesos")

    def test_declined_saved_card_is_an_error_with_a_reason(self):
        token = self._save_card().token_id
        self.transbank.oneclick_decline = True
        tx = self._create_transaction("token", reference="WP-TOKEN-3", token_id=token.id)
        tx._send_payment_request()
        self.assertEqual(tx.state, "error")
        self.assertIn("declined", tx.state_message)

    def test_lost_authorization_answer_is_pending_then_settled_by_status(self):
        token = self._save_card().token_id
        self.transbank.inject_fault("drop", path=AUTHORIZE, after_handling=True)
        tx = self._create_transaction("token", reference="WP-TOKEN-4", token_id=token.id)
        with mute_logger(ONECLICK_LOGGER):
            tx._send_payment_request()
        self.assertEqual(tx.state, "pending")
        self._age(tx, minutes=3)
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._authorizations()), 2, "asked status, never paid again")

    def test_authorization_that_never_arrived_is_cancelled(self):
        token = self._save_card().token_id
        self.transbank.inject_fault("drop", path=AUTHORIZE)
        tx = self._create_transaction("token", reference="WP-TOKEN-5", token_id=token.id)
        with mute_logger(ONECLICK_LOGGER):
            tx._send_payment_request()
        self._age(tx, minutes=3)
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "cancel")

    def test_saved_card_payment_is_refunded_through_its_store(self):
        tx = self._save_card()
        tx.action_refund(amount_to_refund=15990)
        refund = tx.child_transaction_ids
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.webpay_refund_type, "REVERSED")
        (call,) = self.transbank.requests_to(r"/oneclick/v1\.2/transactions/[^/]+/refunds")
        self.assertEqual(
            call.json(),
            {
                "commerce_code": "597055555542",
                "detail_buy_order": tx.webpay_store_buy_order,
                "amount": 15990,
            },
        )

    def test_deleting_the_token_deletes_the_inscription(self):
        token = self._save_card().token_id
        token.action_archive()
        self.assertFalse(token.active)
        self.assertEqual(self.transbank.active_inscriptions(), [])

    def test_token_stays_when_transbank_cannot_be_reached_to_delete_it(self):
        token = self._save_card().token_id
        self.transbank.inject_fault("drop", path=r"/oneclick/v1\.2/inscriptions$")
        with (
            mute_logger(ONECLICK_LOGGER),
            self.assertRaisesRegex(UserError, "still saved"),
            self.env.cr.savepoint(),
        ):
            token.action_archive()
        token.invalidate_recordset()
        self.assertTrue(token.active)
        self.assertEqual(len(self.transbank.active_inscriptions()), 1)

    def test_disabling_the_provider_archives_tokens_even_if_transbank_is_down(self):
        token = self._save_card().token_id
        self.transbank.inject_fault("drop", path=r"/oneclick/v1\.2/inscriptions$")
        with mute_logger(ONECLICK_LOGGER):
            self.provider.state = "disabled"
        self.assertFalse(token.active)

    def test_adding_a_card_without_paying_only_saves_it(self):
        tx, form = self._start_saving_a_card(
            reference="WP-VALIDATE-1", operation="validation", amount=0
        )
        self.transbank._decide_inscription(form["inputs"]["TBK_TOKEN"], "accept")
        self._inscription_return(form["inputs"]["TBK_TOKEN"])
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.token_id.active)
        self.assertFalse(self._authorizations())

    def test_production_with_saved_cards_needs_the_oneclick_settings(self):
        self.provider.write(
            {
                "webpay_prod_commerce_code": "597012345678",
                "webpay_prod_api_key": "merchant-key",
            }
        )
        with self.assertRaisesRegex(Exception, "Oneclick"):
            self.provider.write({"state": "enabled"})
