import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..gateways.codes import UNICOMER
from ..gateways.unicomer_api import money
from . import unicomer_collection
from .notifications import CLOSE_DIALOG, notification

_logger = logging.getLogger(__name__)

_STATUS = [
    ("sending", "Being sent"),
    ("not_sent", "Not sent"),
    ("unknown", "Outcome unknown"),
    ("rejected", "Refused by Unicomer"),
    ("not_found", "Not at Unicomer"),
    ("registered", "Registered (reversible)"),
    ("synchronized", "Synchronized"),
    ("zombie", "Zombie (not registered)"),
    ("reversed", "Reversed"),
    ("sync_problem", "Synchronization problem"),
]


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    unicomer_environment = fields.Selection(
        [("test", "Development"), ("prod", "Production")],
        string="Unicomer Environment",
        readonly=True,
        copy=False,
    )
    unicomer_status = fields.Selection(
        _STATUS, string="Unicomer State", readonly=True, copy=False, index="btree_not_null"
    )
    unicomer_status_detail = fields.Char(string="Unicomer Says", readonly=True, copy=False)
    unicomer_credit_id = fields.Char(string="Credit (secuencial)", readonly=True, copy=False)
    unicomer_credit_label = fields.Char(string="Credit Invoice", readonly=True, copy=False)
    unicomer_item = fields.Char(string="Financed Item", readonly=True, copy=False)
    unicomer_customer_vat = fields.Char(
        string="Customer ID (cédula/RUC)", readonly=True, copy=False, index="btree_not_null"
    )
    unicomer_customer_name = fields.Char(string="Credit Holder", readonly=True, copy=False)
    unicomer_processed_at = fields.Char(
        string="Processed At (fch_proceso)", readonly=True, copy=False
    )
    unicomer_request_body = fields.Text(
        string="Registered Body", readonly=True, copy=False, groups="base.group_system"
    )
    unicomer_locality = fields.Char(string="Collection Point", readonly=True, copy=False)
    unicomer_cashier_id = fields.Many2one("res.users", string="Cashier", readonly=True, copy=False)
    unicomer_commission_rate = fields.Float(
        string="Commission (%)", digits=(5, 2), readonly=True, copy=False
    )
    unicomer_commission_amount = fields.Monetary(
        string="Commission", compute="_compute_unicomer_commission_amount", store=True
    )
    unicomer_commission_move_id = fields.Many2one(
        "account.move", string="Commission Entry", readonly=True, copy=False
    )
    unicomer_needs_review = fields.Boolean(
        string="Needs Review", readonly=True, copy=False, index=True
    )
    unicomer_review_reason = fields.Char(string="Why Review", readonly=True, copy=False)
    unicomer_refusal_seen = fields.Boolean(readonly=True, copy=False)
    unicomer_resends = fields.Integer(string="Resends", readonly=True, copy=False)
    unicomer_unanswered_asks = fields.Integer(
        string="Unanswered Consults", readonly=True, copy=False
    )
    unicomer_last_check = fields.Datetime(string="Last Asked Unicomer", readonly=True, copy=False)
    unicomer_notes = fields.Text(string="Follow-up Log", readonly=True, copy=False)
    unicomer_reversed_by = fields.Many2one(
        "res.users", string="Reversed By", readonly=True, copy=False
    )

    @api.depends("amount", "unicomer_commission_rate")
    def _compute_unicomer_commission_amount(self):
        for tx in self:
            rate = money(tx.unicomer_commission_rate or 0)
            tx.unicomer_commission_amount = float(money(money(tx.amount) * rate / 100))

    def init(self):
        res = super().init()
        # Unicomer knows a collection by its receipt: the database refuses a second one.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS payment_transaction_unicomer_receipt_uniq
            ON payment_transaction (provider_id, reference)
            WHERE unicomer_status IS NOT NULL
            """
        )
        return res

    # === ACTIONS === #

    def action_unicomer_reverse(self):
        """Reverse (anular) the collection while Unicomer still allows it."""
        self.ensure_one()
        self._check_unicomer_cashier()
        tx = self.sudo()
        reversed_ = unicomer_collection.reverse(tx)
        if reversed_:
            message, kind = self.env._("Collection %s reversed.", tx.reference), "success"
        elif reversed_ is None:
            message = self.env._(
                "Unicomer did not confirm the reversal of %s and cannot be asked now: the "
                "outcome is unknown. Do not give the cash back; ask Unicomer again.",
                tx.reference,
            )
            kind = "warning"
        else:
            message = self.env._(
                "Unicomer no longer allows reversing %(ref)s (now: %(state)s). "
                "A correction is now a back-office request to Unicomer.",
                ref=tx.reference,
                state=dict(_STATUS).get(tx.unicomer_status, tx.unicomer_status),
            )
            kind = "warning"
        return notification(message, kind, CLOSE_DIALOG)

    def action_unicomer_refresh(self):
        """Ask Unicomer now what became of the collection."""
        self.ensure_one()
        self._check_unicomer_cashier()
        tx = self.sudo()
        tx._latam_lock()
        if not unicomer_collection.settle(tx):
            raise UserError(self.env._("Unicomer could not be asked; try again in a moment."))
        if tx.state == "done":
            tx._post_process()
        return notification(
            self.env._("Unicomer says: %s", dict(_STATUS).get(tx.unicomer_status, "")),
            "info",
            CLOSE_DIALOG,
        )

    def action_unicomer_print_receipt(self):
        self.ensure_one()
        return self.env.ref("payment_latam.action_report_unicomer_receipt").report_action(self)

    def action_unicomer_mark_reviewed(self):
        """A person has followed up a flagged collection (with Unicomer, off line)."""
        if not self.env.user.has_group("payment_latam.group_unicomer_manager"):
            raise UserError(self.env._("Only a collections manager can close a review."))
        for tx in self.sudo():
            tx._unicomer_note(self.env._("Review closed by %s.", self.env.user.name))
        self.sudo().write({"unicomer_needs_review": False})
        return True

    def action_unicomer_close_not_collected(self):
        """A manager, having checked with Unicomer, closes a flagged collection that
        Unicomer does not hold (zombie, sync problem, never found): no money is booked."""
        if not self.env.user.has_group("payment_latam.group_unicomer_manager"):
            raise UserError(self.env._("Only a collections manager can close a collection."))
        for tx in self.sudo():
            tx._latam_lock()
            if not tx.unicomer_needs_review or tx.state not in ("draft", "pending", "authorized"):
                raise UserError(
                    self.env._("Only a collection under review and not booked can be closed.")
                )
            reason = self.env._("Closed by %s as not collected at Unicomer.", self.env.user.name)
            tx._unicomer_note(reason)
            tx.write({"unicomer_needs_review": False})
            tx._set_error(reason)
        return True

    def _unicomer_note(self, text):
        """Keep what happened to the collection on it: transactions have no chatter."""
        for tx in self:
            stamp = fields.Datetime.to_string(fields.Datetime.now())
            line = f"{stamp} UTC ({self.env.user.name}): {text}"
            tx.unicomer_notes = f"{tx.unicomer_notes}\n{line}" if tx.unicomer_notes else line

    def _check_unicomer_cashier(self):
        if self.provider_code != UNICOMER:
            raise UserError(self.env._("This is not a Unicomer collection."))
        if not self.env.user.has_group("payment_latam.group_unicomer_cashier"):
            raise UserError(self.env._("Only Unicomer cashiers can do this."))

    # === PAYMENT FRAMEWORK HOOKS === #

    def _send_void_request(self, amount_to_void=None):
        """Override of `payment`: voiding a registered collection is Unicomer's reversal."""
        child_void_tx = super()._send_void_request(amount_to_void=amount_to_void)
        if self.provider_code == UNICOMER:
            if child_void_tx:
                raise UserError(self.env._("Unicomer reverses a collection whole, never in part."))
            unicomer_collection.reverse(self)
        return child_void_tx

    def _send_capture_request(self, amount_to_capture=None):
        """Override of `payment`: Unicomer synchronizes by itself; "capture" asks it."""
        child_capture_tx = super()._send_capture_request(amount_to_capture=amount_to_capture)
        if self.provider_code == UNICOMER:
            self._latam_lock()
            unicomer_collection.settle(self)
        return child_capture_tx

    def _create_payment(self, **extra_create_values):
        """Override of `account_payment`: the cash belongs to Unicomer.

        The payment is received from the Unicomer partner into the collector's
        journal and credited to the payable account owed to Unicomer; the
        collection commission, when an income account is set, moves from that
        debt to the collector's income.
        """
        if self.provider_code != UNICOMER:
            return super()._create_payment(**extra_create_values)
        provider = self.provider_id.sudo()
        partner = provider.unicomer_partner_id or self.partner_id.commercial_partner_id
        values = {"partner_id": partner.id, "partner_type": "supplier"}
        payable = provider.unicomer_payable_account_id
        if payable:
            values["destination_account_id"] = payable.id
        payment = super()._create_payment(**values, **extra_create_values)
        self._unicomer_book_commission(payment)
        return payment

    def _unicomer_book_commission(self, payment):
        provider = self.provider_id.sudo()
        income = provider.unicomer_commission_account_id
        if not income or not self.unicomer_commission_amount or self.unicomer_commission_move_id:
            return
        journal = self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", self.company_id.id)], limit=1
        )
        if not journal:
            _logger.warning(
                "Unicomer: no general journal in %s; commission of %s not booked",
                self.company_id.name,
                self.reference,
            )
            return
        amount = self.unicomer_commission_amount
        company = self.company_id
        balance = self.currency_id._convert(amount, company.currency_id, company, payment.date)
        label = self.env._("Unicomer collection commission %s", self.reference)
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "date": payment.date,
                "ref": label,
                "line_ids": [
                    fields.Command.create(
                        {
                            "name": label,
                            "account_id": payment.destination_account_id.id,
                            "partner_id": payment.partner_id.id,
                            "currency_id": self.currency_id.id,
                            "amount_currency": amount,
                            "balance": balance,
                        }
                    ),
                    fields.Command.create(
                        {
                            "name": label,
                            "account_id": income.id,
                            "currency_id": self.currency_id.id,
                            "amount_currency": -amount,
                            "balance": -balance,
                        }
                    ),
                ],
            }
        )
        move.action_post()
        self.unicomer_commission_move_id = move

    # === CRON === #

    @api.model
    def _cron_unicomer_follow_up(self):
        """Settle unknown outcomes and book collections Unicomer has synchronized."""
        return unicomer_collection.follow_up(self)
