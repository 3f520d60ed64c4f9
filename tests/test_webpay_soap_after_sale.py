from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_latam.simulators.webpay_soap import COMMERCE_PATH, WEBPAY_PATH
from odoo.addons.payment_latam.tests.webpay_soap_common import WebpaySoapCommon

AFTER_SALE_LOGGERS = (
    "odoo.addons.payment_latam.models.webpay_after_sale",
    "odoo.addons.payment_latam.models.webpay_soap_after_sale",
)
DAYS = 86400


class SoapAfterSaleMixin:
    def _inputs(self, operation, input_name):
        """What each `operation` request asked, as {field: text}."""
        inputs = []
        for request in self._soap_calls(operation):
            envelope = etree.fromstring(request.body)
            (data,) = envelope.xpath("//*[local-name()=$name]", name=input_name)
            inputs.append({etree.QName(child).localname: child.text for child in data})
        return inputs

    def _nullify_inputs(self):
        return self._inputs("nullify", "nullificationInput")

    def _capture_inputs(self):
        return self._inputs("capture", "captureInput")

    def _refunds_of(self, tx):
        return tx.child_transaction_ids.filtered(lambda child: child.operation == "refund")

    def _sale(self, tx):
        code = tx.webpay_store_code or tx.provider_id._webpay_soap_commerce_code()
        return self.soap_transbank.sale(code, tx.webpay_store_buy_order or tx.reference)

    def _assert_refused(self, tx, pattern, amount=None):
        with (
            mute_logger(*AFTER_SALE_LOGGERS),
            self.assertRaisesRegex(UserError, pattern),
            self.env.cr.savepoint(),  # what a request's rollback does
        ):
            tx.action_refund(amount_to_refund=amount)

    def _assert_no_rest_call(self):
        """Every call went to a SOAP service (the provider's URL is the SOAP simulator's,
        so a REST call would land there on a REST path)."""
        paths = {request.path for request in self.soap_transbank.requests}
        self.assertLessEqual(paths, {WEBPAY_PATH, COMMERCE_PATH})
        self.assertFalse(self.transbank.requests)


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpaySoapAfterSale(SoapAfterSaleMixin, WebpaySoapCommon):
    def setUp(self):
        # Let account_payment post-process for real: refunds become account.payments.
        self.enable_post_process_patcher = False
        super().setUp()

    def _paid(self):
        tx = self._paid_transaction()
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_api, "soap")
        self.soap_transbank.reset_log()
        return tx

    def test_full_refund_from_the_payment_nullifies_the_sale(self):
        tx = self._paid()
        tx._post_process()
        payment = tx.payment_id
        wizard = (
            self.env["payment.refund.wizard"]
            .with_context(active_model="account.payment", active_id=payment.id)
            .create({})
        )
        self.assertEqual(wizard.amount_to_refund, 15990)
        wizard.action_refund()

        refund = self._refunds_of(tx)
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.amount, -15990)
        self.assertEqual(refund.webpay_refund_type, "NULLIFIED")
        self.assertEqual(refund.webpay_balance, 0)
        self.assertTrue(refund.webpay_authorization_code)
        self.assertNotEqual(refund.webpay_authorization_code, tx.webpay_authorization_code)
        self.assertEqual(tx.webpay_status, "NULLIFIED")
        (asked,) = self._nullify_inputs()
        self.assertEqual(
            asked,
            {
                "commerceId": "597020000540",
                "buyOrder": tx.reference,
                "authorizedAmount": "15990",
                "authorizationCode": tx.webpay_authorization_code,
                "nullifyAmount": "15990",
            },
        )
        self.assertEqual(self._sale(tx)["balance"], 0)
        refund._post_process()
        self.assertEqual(refund.payment_id.payment_type, "outbound")
        self.assertEqual(refund.payment_id.amount, 15990)
        payment.invalidate_recordset()
        self.assertEqual(payment.amount_available_for_refund, 0)
        self._assert_no_rest_call()

    def test_partial_refunds_are_nullifications_down_to_zero(self):
        tx = self._paid()
        tx.action_refund(amount_to_refund=5000)
        first = self._refunds_of(tx)
        self.assertEqual(first.state, "done")
        self.assertEqual(first.webpay_refund_type, "NULLIFIED")
        self.assertEqual(first.webpay_balance, 10990)
        self.assertTrue(first.webpay_authorization_code)
        self.assertTrue(first.webpay_transaction_date)
        self.assertEqual(tx.webpay_status, "PARTIALLY_NULLIFIED")

        tx.action_refund(amount_to_refund=10990)  # the rest: not a second partial
        second = self._refunds_of(tx) - first
        self.assertEqual(second.state, "done")
        self.assertEqual(second.webpay_balance, 0)
        self.assertEqual(tx.webpay_status, "NULLIFIED")
        self.assertEqual([i["nullifyAmount"] for i in self._nullify_inputs()], ["5000", "10990"])
        self.assertEqual(self._sale(tx)["balance"], 0)
        (first | second)._post_process()
        self.assertEqual(first.payment_id.payment_type, "outbound")
        self.assertEqual(first.payment_id.amount, 5000)
        self.assertEqual(second.payment_id.amount, 10990)

    def test_a_second_partial_refund_is_refused_and_changes_nothing(self):
        tx = self._paid()
        tx.action_refund(amount_to_refund=5000)
        self._assert_refused(tx, r"\(code 312\).*only one partial nullification", amount=3000)
        self.assertEqual(len(self._refunds_of(tx)), 1)
        self.assertEqual(tx.webpay_status, "PARTIALLY_NULLIFIED")
        self.assertEqual(self._sale(tx)["balance"], 10990)

    def test_refusals_say_why_and_change_nothing(self):
        tx = self._paid()
        self.soap_transbank.forced_faults["nullify"] = 311
        self._assert_refused(tx, r"\(code 311\).*more than the balance.*Nothing was changed")
        self.soap_transbank.age(tx.provider_reference, 91 * DAYS)
        self._assert_refused(tx, r"\(code 284\).*90 days")
        self.assertFalse(self._refunds_of(tx))
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_status, "AUTHORIZED")
        self.assertEqual(self._sale(tx)["balance"], 15990)

    def test_installment_sales_are_nullified_in_full_only(self):
        self.soap_transbank.payment_type_code = "VC"
        self.soap_transbank.shares_number = 3
        tx = self._paid()
        self._assert_refused(tx, r"\(code 53\).*installments.*in full", amount=5000)
        self.assertFalse(self._refunds_of(tx))
        tx.action_refund()
        self.assertEqual(self._refunds_of(tx).state, "done")
        self.assertEqual(tx.webpay_status, "NULLIFIED")

    def test_lost_full_nullification_is_settled_by_sending_it_again(self):
        tx = self._paid()
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH, after_handling=True)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_refund()
        refund = self._refunds_of(tx)
        self.assertEqual(refund.state, "pending")
        self.assertEqual(self._sale(tx)["balance"], 0, "the nullification landed")

        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(refund.state, "done", "Transbank answered 310: nullified already")
        self.assertEqual(refund.webpay_refund_type, "NULLIFIED")
        self.assertEqual(refund.webpay_balance, 0)
        self.assertEqual(tx.webpay_status, "NULLIFIED")
        first, again = self._nullify_inputs()
        self.assertEqual(first, again, "the very same nullification")
        self.assertEqual(self._sale(tx)["balance"], 0, "given back once")
        refund._post_process()
        self.assertEqual(refund.payment_id.amount, 15990)
        self._assert_no_rest_call()

    def test_lost_full_nullification_that_never_landed_is_made_by_the_resend(self):
        tx = self._paid()
        tx.action_refund(amount_to_refund=5000)
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_refund(amount_to_refund=10990)
        refund = self._refunds_of(tx).filtered(lambda r: r.state == "pending")
        self.assertEqual(refund.amount, -10990)
        self.assertEqual(self._sale(tx)["balance"], 10990, "it never reached Transbank")

        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.webpay_balance, 0)
        self.assertEqual(tx.webpay_status, "NULLIFIED")
        self.assertEqual(self._sale(tx)["balance"], 0)
        self.assertEqual(len(self._nullify_inputs()), 3)

    def test_lost_partial_nullification_is_left_for_a_person_and_never_sent_again(self):
        tx = self._paid()
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH, after_handling=True)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_refund(amount_to_refund=5000)
        refund = self._refunds_of(tx)
        self.assertEqual(refund.state, "pending")
        self.assertIn("Transbank's portal", refund.state_message)

        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(refund.state, "pending")
        self._assert_refused(tx, r"not confirmed.*Transbank's portal", amount=1000)
        self.assertEqual(len(self._nullify_inputs()), 1, "never sent again")
        self.assertEqual(self._sale(tx)["balance"], 10990)
        self._assert_no_rest_call()

    def test_a_refused_resend_leaves_the_refund_pending_with_the_reason(self):
        tx = self._paid()
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_refund()
        refund = self._refunds_of(tx)
        self.soap_transbank.forced_faults["nullify"] = 315
        with mute_logger(*AFTER_SALE_LOGGERS):
            self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(refund.state, "pending")
        self.assertIn("code 315", refund.state_message)
        self.assertEqual(self._sale(tx)["balance"], 15990)


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpaySoapDeferredCapture(SoapAfterSaleMixin, WebpaySoapCommon):
    def setUp(self):
        super().setUp()
        self.provider.capture_manually = True

    def _authorized(self):
        tx = self._paid_transaction(reference="WP-SOAP-DEFER-1")
        self.assertEqual(tx.state, "authorized")
        self.assertEqual(tx.provider_id._webpay_soap_commerce_code(), "597044444404")
        self.soap_transbank.reset_log()
        return tx

    def test_capture_button_captures_the_whole_authorization(self):
        tx = self._authorized()
        sale_code = tx.webpay_authorization_code
        tx.action_capture()
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_status, "CAPTURED")
        self.assertTrue(tx.webpay_capture_date)
        self.assertFalse(tx.webpay_pending_operation)
        (asked,) = self._capture_inputs()
        self.assertEqual(
            asked,
            {
                "commerceId": "597044444404",
                "buyOrder": tx.reference,
                "authorizationCode": sale_code,
                "capturedAmount": "15990",
            },
        )
        sale = self._sale(tx)
        self.assertEqual(sale["status"], "CAPTURED")
        self.assertEqual(tx.webpay_authorization_code, sale["capture_authorization_code"])
        self._assert_no_rest_call()

    def test_a_captured_sale_is_nullified_by_the_capture(self):
        tx = self._authorized()
        tx.action_capture()
        tx.action_refund(amount_to_refund=4000)
        refund = self._refunds_of(tx)
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.webpay_balance, 11990)
        (asked,) = self._nullify_inputs()
        self.assertEqual(asked["authorizationCode"], self._sale(tx)["capture_authorization_code"])
        self.assertEqual(asked["authorizedAmount"], "15990")

    def test_lost_capture_answer_is_settled_by_sending_it_again(self):
        tx = self._authorized()
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH, after_handling=True)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_capture()
        self.assertEqual(tx.state, "authorized")
        self.assertEqual(tx.webpay_pending_operation, "capture")
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "done", "Transbank answered 309: captured already")
        self.assertEqual(tx.webpay_status, "CAPTURED")
        self.assertFalse(tx.webpay_pending_operation)
        first, again = self._capture_inputs()
        self.assertEqual(first, again)
        self._assert_no_rest_call()

    def test_capture_pressed_again_after_a_lost_answer_captures_once(self):
        tx = self._authorized()
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH, after_handling=True)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_capture()
        tx.action_capture()
        self.assertEqual(tx.state, "done")
        self.assertEqual(self._sale(tx)["captured_amount"], 15990)

    def test_lost_capture_that_never_reached_transbank_is_made_by_the_resend(self):
        tx = self._authorized()
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_capture()
        self.assertEqual(self._sale(tx)["status"], "AUTHORIZED")
        self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.webpay_capture_date)
        self.assertEqual(self._sale(tx)["status"], "CAPTURED")

    def test_lost_capture_resend_refused_clears_the_pending_capture(self):
        tx = self._authorized()
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_capture()
        self.soap_transbank.age(tx.provider_reference, 8 * DAYS)
        with mute_logger(*AFTER_SALE_LOGGERS):
            self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "authorized")
        self.assertFalse(tx.webpay_pending_operation)
        self.assertIn("code 284", tx.state_message)
        self.assertEqual(self._sale(tx)["status"], "AUTHORIZED")

    def test_lost_capture_still_unknown_stays_pending(self):
        tx = self._authorized()
        self.soap_transbank.inject_fault("drop", path=COMMERCE_PATH, times=2)
        with mute_logger(*AFTER_SALE_LOGGERS):
            tx.action_capture()
            self.env["payment.transaction"]._cron_webpay_check_pending()
        self.assertEqual(tx.state, "authorized")
        self.assertEqual(tx.webpay_pending_operation, "capture")
        self.assertEqual(len(self._capture_inputs()), 2)

    def test_refused_capture_says_why_and_changes_nothing(self):
        tx = self._authorized()
        self.soap_transbank.age(tx.provider_reference, 8 * DAYS)
        with (
            mute_logger(*AFTER_SALE_LOGGERS),
            self.assertRaisesRegex(UserError, r"\(code 284\).*7 days"),
            self.env.cr.savepoint(),
        ):
            tx.action_capture()
        self.assertEqual(tx.state, "authorized")
        self.assertFalse(tx.webpay_pending_operation)

    def test_void_is_refused_as_soap_cannot_release_an_authorization(self):
        tx = self._authorized()
        with (
            self.assertRaisesRegex(UserError, "cannot release"),
            self.env.cr.savepoint(),
        ):
            tx.action_void()
        self.assertEqual(tx.state, "authorized")
        self.assertFalse(self.soap_transbank.requests, "nothing was sent")
        self.assertEqual(self._sale(tx)["status"], "AUTHORIZED")
        self._assert_no_rest_call()


@tagged("post_install", "-at_install", "payment_latam", "webpay")
class TestWebpaySoapMallAfterSale(SoapAfterSaleMixin, WebpaySoapCommon):
    def setUp(self):
        super().setUp()
        self.provider.webpay_mall = True

    def test_refund_nullifies_the_stores_part(self):
        tx = self._paid_transaction(reference="WP-SOAP-MALL-1")
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.webpay_store_code, "597044444402")
        tx.action_refund(amount_to_refund=2000)
        refund = self._refunds_of(tx)
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.webpay_balance, 13990)
        (asked,) = self._nullify_inputs()
        self.assertEqual(asked["commerceId"], "597044444402")
        self.assertEqual(asked["buyOrder"], tx.webpay_store_buy_order)
        self.assertEqual(asked["authorizationCode"], tx.webpay_authorization_code)
        self.assertEqual(self._sale(tx)["balance"], 13990)
