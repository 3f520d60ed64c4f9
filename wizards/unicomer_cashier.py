"""The cashier's screen: look a customer up at Unicomer, choose a credit and an
amount, collect, print the receipt, reverse while Unicomer allows it."""

from stdnum.ec import ci, ruc

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..gateways import unicomer_api as api_client
from ..models import unicomer_collection

CASHIER_GROUP = "payment_latam.group_unicomer_cashier"


def normalize_identification(text):
    """A cédula (10 digits) or RUC (13 digits) with a valid check digit, else None."""
    compact = ci.compact(text or "")
    if ci.is_valid(compact) or ruc.is_valid(compact):
        return compact
    return None


class UnicomerCashier(models.TransientModel):
    _name = "payment.unicomer.cashier"
    _description = "Unicomer Collection Counter"

    provider_id = fields.Many2one(
        "payment.provider",
        string="Unicomer Account",
        domain="[('code', '=', 'unicomer'), ('state', '!=', 'disabled')]",
        default=lambda self: self._default_provider(),
        required=True,
    )
    customer_vat = fields.Char(string="Cédula / RUC")
    customer_name = fields.Char(string="Customer", readonly=True)
    customer_document_type = fields.Char(string="Document Type", readonly=True)
    customer_city = fields.Char(string="City", readonly=True)
    customer_email = fields.Char(string="Email", readonly=True)
    customer_phones = fields.Char(string="Phones", readonly=True)
    credit_line_ids = fields.One2many(
        "payment.unicomer.cashier.credit", "cashier_id", string="Credits", readonly=True
    )
    selected_line_id = fields.Many2one(
        "payment.unicomer.cashier.credit",
        string="Credit to Pay",
        domain="[('cashier_id', '=', id)]",
    )
    currency_id = fields.Many2one("res.currency", default=lambda self: self.env.ref("base.USD"))
    amount = fields.Monetary(string="Amount Received")
    locality = fields.Char(
        string="Collection Point", default=lambda self: self._default_locality(), required=True
    )
    transaction_id = fields.Many2one("payment.transaction", string="Collection", readonly=True)
    transaction_state = fields.Selection(related="transaction_id.state", string="Odoo State")
    transaction_unicomer_status = fields.Selection(
        related="transaction_id.unicomer_status", string="Unicomer State"
    )
    transaction_message = fields.Text(related="transaction_id.state_message", string="Message")
    step = fields.Selection(
        [("search", "Search"), ("choose", "Choose"), ("done", "Collected")],
        default="search",
        required=True,
    )

    def _default_provider(self):
        return (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("code", "=", "unicomer"),
                    ("state", "!=", "disabled"),
                    ("company_id", "=", self.env.company.id),
                ],
                limit=1,
            )
        )

    def _default_locality(self):
        provider = self._default_provider()
        return self.env.user.unicomer_locality or provider.unicomer_default_locality

    @api.model_create_multi
    def create(self, vals_list):
        self._check_cashier()
        return super().create(vals_list)

    @api.constrains("provider_id")
    def _check_unicomer_provider(self):
        if any(counter.provider_id.code != "unicomer" for counter in self):
            raise ValidationError(self.env._("The counter collects for a Unicomer account only."))
        # The flow reads the provider's credentials as superuser: only the cashier's own
        # companies' accounts may be used.
        if any(counter.provider_id.company_id not in self.env.user.company_ids for counter in self):
            raise ValidationError(self.env._("This Unicomer account belongs to another company."))

    def _check_cashier(self):
        if not self.env.user.has_group(CASHIER_GROUP):
            raise UserError(self.env._("Only Unicomer cashiers can collect."))

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
            "name": self.env._("Unicomer Collection"),
        }

    # === STEP 1: the customer === #

    def action_search(self):
        self.ensure_one()
        self._check_cashier()
        identification = normalize_identification(self.customer_vat)
        if not identification:
            raise UserError(
                self.env._("%s is not a valid Ecuadorian cédula or RUC.", self.customer_vat or "")
            )
        client = unicomer_collection.client_for(self.provider_id)
        try:
            statement = client.account_statement(identification)
        except api_client.UnicomerError as error:
            raise UserError(unicomer_collection.unicomer_message(self.env, error)) from None
        # Only Unicomer's answer writes the credit lines (cashiers may read them): the
        # debt and commission a collection relies on cannot be edited over RPC.
        self.sudo().credit_line_ids.unlink()
        self.sudo().write(
            {
                "customer_vat": identification,
                "customer_name": statement.name,
                "customer_document_type": statement.document_type,
                "customer_city": statement.city,
                "customer_email": statement.email,
                "customer_phones": ", ".join(statement.phones),
                "credit_line_ids": [
                    fields.Command.create(_line_values(credit)) for credit in statement.credits
                ],
                "selected_line_id": False,
                "amount": 0.0,
                "transaction_id": False,
                "step": "choose",
            }
        )
        if len(self.credit_line_ids) == 1:
            self.credit_line_ids.action_select()
        return self._reopen()

    # === STEP 2: the credit and the amount === #

    def action_collect(self):
        self.ensure_one()
        self._check_cashier()
        if self.transaction_id:
            # A second click, or Odoo replaying the request: show what was collected.
            return self._reopen()
        if self.step != "choose":
            raise UserError(self.env._("Search the customer first."))
        line = self.selected_line_id
        if not line or line.cashier_id != self:
            raise UserError(self.env._("Choose the credit to pay."))
        if api_client.money(self.amount) <= 0:
            raise UserError(self.env._("Enter the amount received."))
        tx = unicomer_collection.create_collection(
            self.provider_id,
            customer_vat=self.customer_vat,
            customer_name=self.customer_name,
            credit=line._as_credit(),
            amount=self.amount,
            locality=self.locality,
            user=self.env.user,
        )
        # Committed with the collection, before anything is sent: whatever happens to
        # this request, the counter shows the collection it sent.
        self.write({"transaction_id": tx.id, "step": "done"})
        unicomer_collection.dispatch(tx)
        return self._reopen()

    # === STEP 3: the receipt, the reversal, the next customer === #

    def action_print_receipt(self):
        self.ensure_one()
        if not self.transaction_id:
            raise UserError(self.env._("Nothing was collected yet."))
        return self.transaction_id.action_unicomer_print_receipt()

    def action_reverse(self):
        self.ensure_one()
        if not self.transaction_id:
            raise UserError(self.env._("Nothing was collected yet."))
        return self.transaction_id.action_unicomer_reverse()

    def action_refresh(self):
        self.ensure_one()
        if self.transaction_id:
            self.transaction_id.action_unicomer_refresh()
        return self._reopen()

    def action_new(self):
        self.ensure_one()
        fresh = self.create({"provider_id": self.provider_id.id, "locality": self.locality})
        return fresh._reopen()


def _line_values(credit):
    return {
        "credit_id": str(credit.credit_id),
        "invoice": credit.invoice,
        "item": credit.item,
        "installment": float(credit.installment),
        "term": credit.term,
        "installments_paid": credit.installments_paid,
        "installments_pending": credit.installments_pending,
        "installments_overdue": credit.installments_overdue,
        "next_due": credit.next_due,
        "days_overdue": credit.days_overdue,
        "overdue_amount": float(credit.overdue_amount),
        "charges": float(credit.charges),
        "late_interest": float(credit.late_interest),
        "amount_due": float(credit.amount_due),
        "total_debt": float(credit.total_debt),
        "commission_rate": float(credit.commission_rate),
        "chain": credit.chain,
    }


class UnicomerCashierCredit(models.TransientModel):
    _name = "payment.unicomer.cashier.credit"
    _description = "Unicomer Credit at the Counter"
    _order = "id"
    _rec_name = "invoice"

    cashier_id = fields.Many2one("payment.unicomer.cashier", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="cashier_id.currency_id")
    credit_id = fields.Char(string="Credit (secuencial)", readonly=True)
    invoice = fields.Char(string="Invoice", readonly=True)
    item = fields.Char(string="Item", readonly=True)
    installment = fields.Monetary(string="Installment", readonly=True)
    term = fields.Integer(string="Term", readonly=True)
    installments_paid = fields.Integer(string="Paid", readonly=True)
    installments_pending = fields.Integer(string="Pending", readonly=True)
    installments_overdue = fields.Integer(string="Overdue", readonly=True)
    next_due = fields.Char(string="Next Due", readonly=True)
    days_overdue = fields.Integer(string="Days Late", readonly=True)
    overdue_amount = fields.Monetary(string="Overdue Amount", readonly=True)
    charges = fields.Monetary(string="Charges", readonly=True)
    late_interest = fields.Monetary(string="Late Interest", readonly=True)
    amount_due = fields.Monetary(string="To Pay", readonly=True)
    total_debt = fields.Monetary(string="Total Debt", readonly=True)
    commission_rate = fields.Float(string="Commission (%)", digits=(5, 2), readonly=True)
    chain = fields.Char(string="Chain", readonly=True)
    is_selected = fields.Boolean(compute="_compute_is_selected")

    def _compute_is_selected(self):
        for line in self:
            line.is_selected = line.cashier_id.selected_line_id == line

    def action_select(self):
        self.ensure_one()
        self.cashier_id._check_cashier()
        self.cashier_id.write({"selected_line_id": self.id, "amount": self.amount_due})
        return self.cashier_id._reopen()

    def _as_credit(self):
        money = api_client.money
        return api_client.Credit(
            credit_id=int(self.credit_id),
            invoice=self.invoice or "",
            item=self.item or "",
            installment=money(self.installment),
            term=self.term,
            installments_paid=self.installments_paid,
            installments_pending=self.installments_pending,
            installments_overdue=self.installments_overdue,
            next_due=self.next_due or "",
            days_overdue=self.days_overdue,
            overdue_amount=money(self.overdue_amount),
            charges=money(self.charges),
            late_interest=money(self.late_interest),
            amount_due=money(self.amount_due),
            total_debt=money(self.total_debt),
            commission_rate=money(self.commission_rate),
            chain=self.chain or "",
        )
