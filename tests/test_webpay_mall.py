from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.tests.webpay_common import WebpayCommon

HOURS = 3600
FLOW_LOGGER = "odoo.addons.payment_latam.models.webpay_flow"


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpayPlusMall(WebpayCommon):
    def setUp(self):
        super().setUp()
        self.provider.webpay_mall = True

    def _create_call(self):
        (create,) = self.transbank.requests_to(r"/webpay/v1\.2/transactions$", method="POST")
        return create

    def test_a_mall_payment_names_the_store_selling(self):
        tx, _form = self._open_webpay_transaction()
        create = self._create_call()
        self.assertEqual(create.header("Tbk-Api-Key-Id"), "597055555535")
        payload = create.json()
        self.assertEqual(payload["buy_order"], tx.reference)
        self.assertEqual(
            payload["details"],
            [
                {
                    "amount": 15990,
                    "commerce_code": "597055555536",
                    "buy_order": tx.webpay_store_buy_order,
                }
            ],
        )
        self.assertEqual(tx.webpay_product, "mall")
        self.assertLessEqual(len(tx.webpay_store_buy_order), 26)

    def test_approved_mall_payment_is_done_with_the_store_voucher(self):
        tx = self._paid_transaction()
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_store_code, "597055555536")
        self.assertEqual(tx.webpay_status, "AUTHORIZED")
        self.assertTrue(tx.webpay_authorization_code)
        self.assertEqual(tx.webpay_card_last4, "6623")
        self.assertEqual(self._commit_calls(), 1)

    def test_rejected_mall_payment_is_an_error(self):
        tx = self._paid_transaction(outcome="reject")
        self.assertEqual(tx.state, "error")

    def test_each_company_pays_its_own_store(self):
        self.provider.webpay_store_ids = [
            (0, 0, {"company_id": self.env.company.id, "store_code": "597055555537"})
        ]
        tx = self._paid_transaction()
        self.assertEqual(self._create_call().json()["details"][0]["commerce_code"], "597055555537")
        self.assertEqual(tx.webpay_store_code, "597055555537")
        self.assertEqual(tx.state, "done")

    def test_a_shop_order_pays_the_store_of_its_website(self):
        website = self.env["website"].create({"name": "Tienda Norte"})
        self.provider.webpay_store_ids = [
            (0, 0, {"company_id": self.env.company.id, "store_code": "597055555536"}),
            (
                0,
                0,
                {
                    "company_id": self.env.company.id,
                    "website_id": website.id,
                    "store_code": "597055555537",
                },
            ),
        ]
        order = self.env["sale.order"].create(
            {"partner_id": self.partner.id, "website_id": website.id}
        )
        tx = self._create_transaction("redirect", sale_order_ids=[(6, 0, order.ids)])
        self.assertEqual(tx._webpay_store_code(), "597055555537")

    def test_production_mall_without_a_store_refuses_to_open(self):
        self.provider.write(
            {
                "webpay_prod_commerce_code": "597099999999",
                "webpay_prod_api_key": "merchant-key",
                "webpay_prod_api_url": self.transbank.url,
                "state": "enabled",
            }
        )
        with self.assertRaisesRegex(ValidationError, "no store"):
            self._open_webpay_transaction()

    def test_partial_refund_goes_through_the_store(self):
        tx = self._paid_transaction()
        self.transbank.clock.advance(4 * HOURS)
        tx.action_refund(amount_to_refund=4000)
        refund = tx.child_transaction_ids
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.webpay_refund_type, "NULLIFIED")
        self.assertEqual(refund.webpay_balance, 11990)
        (call,) = self.transbank.requests_to(r"/transactions/[^/]+/refunds")
        self.assertEqual(
            call.json(),
            {
                "commerce_code": "597055555536",
                "buy_order": tx.webpay_store_buy_order,
                "amount": 4000,
            },
        )

    def test_lost_commit_answer_is_settled_from_the_mall_status(self):
        tx, _form = self._open_webpay_transaction()
        self._shopper_decides(tx, "approve")
        self.transbank.inject_fault("drop", path=r"/transactions/[^/]+$", after_handling=True)
        with mute_logger(FLOW_LOGGER):
            self._return(token_ws=tx.provider_reference)
        self.assertEqual(tx.state, "pending")
        self._age(tx, minutes=20)
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "done")
        self.assertEqual(self._commit_calls(), 1)

    def test_deferred_mall_captures_its_store(self):
        self.provider.capture_manually = True
        tx = self._paid_transaction()
        self.assertEqual(self._create_call().header("Tbk-Api-Key-Id"), "597055555581")
        self.assertEqual(tx.webpay_store_code, "597055555582")
        self.assertEqual(tx.state, "authorized")
        tx.action_capture()
        self.assertEqual(tx.state, "done")
        (call,) = self.transbank.requests_to(r"/transactions/[^/]+/capture", method="PUT")
        self.assertEqual(call.json()["commerce_code"], "597055555582")
        self.assertEqual(call.json()["buy_order"], tx.webpay_store_buy_order)
