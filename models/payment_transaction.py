import psycopg2

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..gateways import rut
from ..gateways.codes import CAJAVECINA, ETPAY, WEBPAY
from . import (
    cajavecina_service,
    etpay_flow,
    webpay_after_sale,
    webpay_flow,
    webpay_oneclick,
    webpay_soap_flow,
)

_LOCK = "SELECT id FROM payment_transaction WHERE id = %s FOR UPDATE"
_LOCK_NOWAIT = "SELECT id FROM payment_transaction WHERE id = %s FOR UPDATE NOWAIT"


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    # === Webpay: the voucher Transbank's validation asks merchants to show === #
    webpay_session_id = fields.Char(string="Webpay Session", readonly=True, copy=False)
    webpay_status = fields.Char(string="Webpay Status", readonly=True, copy=False)
    webpay_response_code = fields.Integer(string="Webpay Response Code", readonly=True, copy=False)
    webpay_authorization_code = fields.Char(string="Authorization Code", readonly=True, copy=False)
    webpay_card_last4 = fields.Char(string="Card Number (last 4)", readonly=True, copy=False)
    webpay_payment_type = fields.Selection(
        string="Payment Type",
        selection=[
            ("VD", "Redcompra debit"),
            ("VN", "Credit, no installments"),
            ("VC", "Credit in installments"),
            ("SI", "3 interest-free installments"),
            ("S2", "2 interest-free installments"),
            ("NC", "Interest-free installments"),
            ("VP", "Prepaid"),
        ],
        readonly=True,
        copy=False,
    )
    webpay_installments_number = fields.Integer(string="Installments", readonly=True, copy=False)
    webpay_installments_amount = fields.Integer(
        string="Installment Amount", readonly=True, copy=False
    )
    webpay_transaction_date = fields.Datetime(
        string="Webpay Transaction Date", readonly=True, copy=False
    )
    webpay_accounting_date = fields.Char(
        string="Webpay Accounting Date (MMDD)", readonly=True, copy=False
    )
    webpay_vci = fields.Char(string="Webpay VCI", readonly=True, copy=False)
    webpay_product = fields.Selection(
        string="Webpay Product",
        selection=[
            ("plus", "Webpay Plus"),
            ("mall", "Webpay Plus Mall"),
            ("oneclick", "Oneclick Mall (saved card)"),
        ],
        default="plus",
        readonly=True,
        copy=False,
    )
    # === Webpay Oneclick Mall: the inscription and the store that sold === #
    webpay_inscription_token = fields.Char(
        string="Oneclick Inscription Token", readonly=True, copy=False, index="btree_not_null"
    )
    webpay_oneclick_username = fields.Char(string="Oneclick Username", readonly=True, copy=False)
    webpay_store_code = fields.Char(string="Store Commerce Code", readonly=True, copy=False)
    webpay_store_buy_order = fields.Char(string="Store Buy Order", readonly=True, copy=False)
    # === Webpay: after the sale === #
    webpay_capture_deferred = fields.Boolean(
        string="Webpay Deferred Capture",
        help="Transbank authorized this payment; the money moves once it is captured.",
        readonly=True,
        copy=False,
    )
    webpay_capture_date = fields.Datetime(string="Webpay Capture Date", readonly=True, copy=False)
    webpay_refund_type = fields.Selection(
        string="Refund Type",
        selection=[
            ("REVERSED", "Reversal (the sale is undone)"),
            ("NULLIFIED", "Nullification"),
        ],
        help="Transbank decides: a full refund within three hours of the sale is a reversal; "
        "anything else is a nullification.",
        readonly=True,
        copy=False,
    )
    webpay_balance = fields.Integer(
        string="Balance Left",
        help="Pesos of the sale Transbank still holds after this refund.",
        readonly=True,
        copy=False,
    )
    webpay_pending_operation = fields.Selection(
        string="Unconfirmed Operation",
        selection=[("capture", "Capture"), ("void", "Void")],
        help="Sent to Transbank without an answer; Odoo asks Transbank's status to settle it.",
        readonly=True,
        copy=False,
    )

    # === ETpay: the session's signature key and the payment ETpay reports === #
    etpay_signature_token = fields.Char(
        string="ETpay Signature Token",
        help="ETpay signs this session's outcome with it; it never leaves the server.",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    etpay_payment_token = fields.Char(
        string="ETpay Payment Token",
        help="ETpay's id of the transfer: give it to ETpay's support when asking about it.",
        readonly=True,
        copy=False,
    )
    etpay_payment_status = fields.Char(string="ETpay Status", readonly=True, copy=False)
    etpay_environment = fields.Selection(
        string="ETpay Environment",
        selection=[("test", "Sandbox"), ("prod", "Production")],
        help="Where the session was opened: it is followed up there, whatever the provider's "
        "state is now.",
        readonly=True,
        copy=False,
    )
    etpay_status_checked_at = fields.Datetime(
        string="ETpay Status Checked", readonly=True, copy=False
    )

    # === Caja Vecina: the cash payment BancoEstado registered === #
    cajavecina_payment_key = fields.Char(
        string="Caja Vecina Payment Key",
        help="The bank's transaction number (or the documented fallback key): a payment the "
        "bank sends again with it is answered as before and booked once.",
        readonly=True,
        copy=False,
    )
    cajavecina_rut = fields.Char(string="Payer RUT", readonly=True, copy=False)
    cajavecina_document = fields.Char(string="Document Paid (factura)", readonly=True, copy=False)
    cajavecina_channel = fields.Char(string="Bank Channel (pasarela)", readonly=True, copy=False)
    cajavecina_note = fields.Char(string="Bank Note (descripcion)", readonly=True, copy=False)
    cajavecina_paid_at = fields.Datetime(string="Paid at Caja Vecina", readonly=True, copy=False)
    cajavecina_answer = fields.Text(
        string="Answer Sent to BancoEstado", readonly=True, copy=False, groups="base.group_system"
    )
    cajavecina_due_date = fields.Date(string="Pay Before", compute="_compute_cajavecina_due_date")

    # === Reconciliation workspace: stored, indexed, so filters and group-bys stay fast === #
    latam_channel = fields.Selection(
        related="provider_id.code", string="Channel", store=True, index=True
    )
    # The journal the money was booked in (the provider's journal is computed with side
    # effects in account_payment: never a dependency of a stored field).
    latam_journal_id = fields.Many2one(
        related="payment_id.journal_id", string="Journal", store=True, index=True
    )
    latam_date = fields.Date(
        string="Day",
        compute="_compute_latam_date",
        store=True,
        index=True,
        help="The day of the last state change (else of creation), in UTC.",
    )

    def init(self):
        res = super().init()
        # Returns and notifications find their payment by the gateway's token.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS payment_transaction_latam_provider_reference_idx
            ON payment_transaction (provider_reference)
            WHERE provider_reference IS NOT NULL
            """
        )
        # The database, not luck, refuses a second payment for one bank transaction.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS payment_transaction_cajavecina_payment_key_uniq
            ON payment_transaction (provider_id, cajavecina_payment_key)
            WHERE cajavecina_payment_key IS NOT NULL
            """
        )
        return res

    @api.depends("last_state_change", "create_date")
    def _compute_latam_date(self):
        for tx in self:
            moment = tx.last_state_change or tx.create_date
            tx.latam_date = moment.date() if moment else False

    @api.depends("create_date", "provider_id")
    def _compute_cajavecina_due_date(self):
        for tx in self:
            if tx.provider_code == CAJAVECINA and tx.create_date:
                tx.cajavecina_due_date = cajavecina_service.due_date(tx.provider_id, tx.create_date)
            else:
                tx.cajavecina_due_date = False

    @api.model
    def _cron_cajavecina_cancel_overdue(self):
        """Cancel cash payments nobody made in time: the bank stops being offered them."""
        return cajavecina_service.cancel_overdue(self)

    def _cajavecina_payer_rut(self):
        """The customer's RUT as the bank will ask for it, or False."""
        self.ensure_one()
        compact = rut.normalize(self.partner_id.commercial_partner_id.vat)
        return rut.with_hyphen(compact) if compact else False

    # === BUSINESS METHODS: row lock === #

    def _latam_lock(self, wait=True):
        """Lock this transaction's row until the end of the database transaction.

        Gateways repeat their notifications and shoppers double-submit: whoever
        holds the lock acts, the others then see the new state. With `wait`,
        a concurrent holder makes PostgreSQL raise a serialization failure once
        it commits, and Odoo retries the request on a fresh snapshot. Without
        it, return False at once when another transaction holds the row.
        """
        self.ensure_one()
        if wait:
            # A conflict here is expected and retried by Odoo: not an error to log.
            self.env.cr.execute(_LOCK, [self.id], log_exceptions=False)
        else:
            try:
                with self.env.cr.savepoint(flush=False):
                    self.env.cr.execute(_LOCK_NOWAIT, [self.id], log_exceptions=False)
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
                # Held by another transaction, or changed by one since our snapshot.
                return False
        self.invalidate_recordset()
        return True

    # === BUSINESS METHODS: payment flow hooks === #

    @api.model
    def _compute_reference(self, provider_code, prefix=None, separator="-", **kwargs):
        """Override of `payment`: a Webpay reference is Transbank's buy order (≤ 26 chars),
        an ETpay one its `merchant_order_id` (letters, digits, hyphens)."""
        if provider_code == ETPAY:

            def compute_etpay(**values):
                return super(PaymentTransaction, self)._compute_reference(provider_code, **values)

            return etpay_flow.compute_reference(compute_etpay, prefix, separator, **kwargs)
        if provider_code != WEBPAY:
            return super()._compute_reference(
                provider_code, prefix=prefix, separator=separator, **kwargs
            )

        def compute_super(**values):
            return super(PaymentTransaction, self)._compute_reference(provider_code, **values)

        return webpay_flow.compute_reference(self, prefix, separator, compute_super, **kwargs)

    def _get_specific_rendering_values(self, processing_values):
        """Override of `payment`: open the payment at the gateway before redirecting."""
        res = super()._get_specific_rendering_values(processing_values)
        if self.provider_code == WEBPAY and webpay_oneclick.wants_inscription(self):
            return webpay_oneclick.start_inscription(self)
        if self.provider_code == WEBPAY and self.provider_id.webpay_api == "soap":
            return webpay_soap_flow.open_transaction(self)
        if self.provider_code == WEBPAY:
            return webpay_flow.open_transaction(self)
        if self.provider_code == ETPAY:
            return etpay_flow.open_session(self)
        if self.provider_code == CAJAVECINA:
            if not self._cajavecina_payer_rut():
                raise ValidationError(
                    self.env._(
                        "Caja Vecina finds your payment by your RUT: add a valid RUT (tax ID) "
                        "to your address, then choose Caja Vecina again."
                    )
                )
            return {"api_url": cajavecina_service.PROCESS_ROUTE, "reference": self.reference}
        return res

    def _get_tx_from_notification_data(self, provider_code, notification_data):
        """Override of `payment`: find the transaction a gateway notification is about."""
        tx = super()._get_tx_from_notification_data(provider_code, notification_data)
        if provider_code == WEBPAY and len(tx) != 1:
            if notification_data.get("kind") == webpay_oneclick.INSCRIPTION_RETURN:
                return webpay_oneclick.find_inscription_transaction(
                    self, notification_data.get("token")
                )
            return webpay_flow.find_transaction(self, notification_data)
        if provider_code == ETPAY and len(tx) != 1:
            return etpay_flow.find_transaction(self, notification_data)
        if provider_code == CAJAVECINA and len(tx) != 1:
            tx = self.search(
                [
                    ("reference", "=", notification_data.get("reference")),
                    ("provider_code", "=", CAJAVECINA),
                ]
            )
            if not tx:
                raise ValidationError(self.env._("Caja Vecina: no payment with this reference."))
        return tx

    def _process_notification_data(self, notification_data):
        """Override of `payment`: apply a gateway notification to the transaction."""
        res = super()._process_notification_data(notification_data)
        if self.provider_code == WEBPAY:
            if notification_data.get("kind") == webpay_oneclick.INSCRIPTION_RETURN:
                webpay_oneclick.finish_inscription(self)
            elif webpay_soap_flow.uses_soap(self):
                webpay_soap_flow.process_return(self, notification_data)
            else:
                webpay_flow.process_return(self, notification_data)
        elif self.provider_code == ETPAY:
            etpay_flow.process(self, notification_data)
        elif self.provider_code == CAJAVECINA:
            # The shopper chose to pay cash: the bank's registrarPago settles it. Locked:
            # a double submit must not send the instructions twice.
            self._latam_lock()
            if self.state != "draft":
                return res
            self._set_pending()
            if self.partner_email:
                template = self.env.ref("payment_latam.mail_template_cajavecina_instructions")
                template.send_mail(self.id)
        return res

    def _send_payment_request(self):
        """Override of `payment`: charge a saved card (Oneclick Mall) server side."""
        res = super()._send_payment_request()
        if self.provider_code == WEBPAY:
            self._latam_lock()
            if self.state == "draft":
                webpay_oneclick.authorize(self)
        return res

    def _send_refund_request(self, amount_to_refund=None):
        """Override of `payment`: refund through Transbank (reversal or nullification)."""
        refund_tx = super()._send_refund_request(amount_to_refund=amount_to_refund)
        if self.provider_code == WEBPAY:
            webpay_after_sale.refund(self, refund_tx)
        return refund_tx

    def _send_capture_request(self, amount_to_capture=None):
        """Override of `payment`: capture a deferred Webpay authorization."""
        child_capture_tx = super()._send_capture_request(amount_to_capture=amount_to_capture)
        if self.provider_code == WEBPAY:
            webpay_after_sale.capture(self)
        return child_capture_tx

    def _send_void_request(self, amount_to_void=None):
        """Override of `payment`: release a deferred Webpay authorization."""
        child_void_tx = super()._send_void_request(amount_to_void=amount_to_void)
        if self.provider_code == WEBPAY:
            webpay_after_sale.void(self)
        return child_void_tx

    @api.model
    def _cron_webpay_check_pending(self):
        """Settle Webpay operations whose outcome we did not see, by asking Transbank."""
        settled = webpay_flow.check_pending(self) | webpay_soap_flow.check_abandoned(self)
        webpay_oneclick.check_pending(self)
        webpay_after_sale.check_unsettled(self)
        return settled

    @api.model
    def _cron_etpay_check_pending(self):
        """Settle ETpay payments left pending by asking ETpay; cancel expired unpaid ones."""
        return etpay_flow.check_pending(self)

    def _record_etpay_payment(self, payment_token, payment_status):
        """Keep what ETpay reported: the transfer's id (asked for by ETpay's support)."""
        self.ensure_one()
        values = {}
        # The transfer that moved money wins over an earlier failed attempt's id.
        if payment_token and (not self.etpay_payment_token or payment_status == "success"):
            values["etpay_payment_token"] = payment_token
        if payment_status:
            values["etpay_payment_status"] = payment_status
        if values:
            self.write(values)

    def _webpay_store_code(self):
        """The Webpay Plus Mall store selling this payment: the company's (the shop's
        bridge module prefers the website's)."""
        self.ensure_one()
        return self.provider_id._webpay_store_code(self.company_id)

    def _webpay_payment_type_label(self):
        self.ensure_one()
        labels = dict(self._fields["webpay_payment_type"]._description_selection(self.env))
        return labels.get(self.webpay_payment_type, "")
