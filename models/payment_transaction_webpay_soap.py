"""What a Webpay payment keeps of the API it was opened with, and the way out of the
states only Transbank's portal can settle (SOAP has no status query)."""

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

DECIDING_GROUP = "account.group_account_manager"


class PaymentTransactionWebpaySoap(models.Model):
    _inherit = "payment.transaction"

    webpay_api = fields.Selection(
        [("rest", "REST"), ("soap", "SOAP (legacy)")],
        string="Webpay API",
        default="rest",
        readonly=True,
        copy=False,
        help="The API the payment was opened with; it is followed up with the same one.",
    )
    # Transbank's voucher page for this token (SOAP): the shopper is sent there after
    # the return, as the SOAP flow requires. Not a secret.
    webpay_soap_voucher_url = fields.Char(readonly=True, copy=False)
    webpay_pending_operation = fields.Selection(
        selection_add=[("acknowledge", "Acknowledgement"), ("result", "Result")],
        ondelete={"acknowledge": "set null", "result": "set null"},
    )

    webpay_soap_needs_decision = fields.Boolean(
        compute="_compute_webpay_soap_needs_decision",
        help="Pending over SOAP with no answer to wait for: Transbank's portal decides.",
    )

    def _compute_webpay_soap_needs_decision(self):
        for tx in self:
            tx.webpay_soap_needs_decision = (
                tx.provider_code == "webpay"
                and tx.state == "pending"
                and (tx.webpay_api == "soap" or tx.source_transaction_id.webpay_api == "soap")
            )

    def action_webpay_soap_confirm_paid(self):
        """Transbank's portal shows the money taken (or, for a refund, given back)."""
        for tx in self._webpay_soap_deciding():
            tx.webpay_pending_operation = False
            message = self.env._(
                "Confirmed by %(user)s from Transbank's portal.", user=self.env.user.name
            )
            if tx.webpay_capture_deferred and tx.operation != "refund":
                tx._set_authorized(message)  # held, as a deferred authorization is
            else:
                tx._set_done(message)
        self.env.ref("payment.cron_post_process_payment_tx")._trigger()
        return True

    def action_webpay_soap_confirm_not_paid(self):
        """Transbank's portal shows nothing taken (or nothing given back)."""
        for tx in self._webpay_soap_deciding():
            tx.webpay_pending_operation = False
            tx._set_canceled(
                self.env._(
                    "Transbank's portal shows no money moved, checked by %(user)s.",
                    user=self.env.user.name,
                )
            )
        return True

    def _webpay_soap_deciding(self):
        if not self.env.user.has_group(DECIDING_GROUP):
            raise AccessError(
                self.env._("Only accounting managers settle payments from Transbank's portal.")
            )
        for tx in self:
            tx._latam_lock()
            tx.invalidate_recordset(["state"])
            if not tx.webpay_soap_needs_decision:
                raise UserError(
                    self.env._(
                        "%(reference)s is not waiting for a decision from Transbank's portal.",
                        reference=tx.reference,
                    )
                )
        return self
