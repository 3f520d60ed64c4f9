"""How a channel's money reaches the bank: what its deposit looks like on a statement."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PaymentProviderDeposit(models.Model):
    _inherit = "payment.provider"

    latam_deposit_label = fields.Char(
        string="Deposit Label",
        help="Text the bank puts on this channel's deposits (e.g. TRANSBANK, BANCOESTADO, "
        "the cash deposit slip). Bank statement lines carrying it, for the day's amount, are "
        "matched to the day's payments. Without it, deposits are matched by hand.",
    )
    latam_deposit_delay_days = fields.Integer(
        string="Deposit Delay (days)",
        default=3,
        help="How many days after the payments their deposit may reach the bank.",
    )
    latam_deposit_max_fee = fields.Float(
        string="Deposit Fee Limit (%)",
        digits=(5, 2),
        default=0.0,
        help="The gateway's commission, deducted from the deposit, as a percentage of the "
        "day's payments. A deposit short by more than this is never matched automatically.",
    )
    latam_deposit_fee_account_id = fields.Many2one(
        "account.account",
        string="Deposit Fee Account",
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        check_company=True,
        help="Where the gateway's commission is booked when a deposit is reconciled.",
    )

    @api.constrains("latam_deposit_delay_days", "latam_deposit_max_fee")
    def _check_latam_deposit_settings(self):
        for provider in self:
            if provider.latam_deposit_delay_days < 0:
                raise ValidationError(self.env._("The deposit delay cannot be negative."))
            if not 0 <= provider.latam_deposit_max_fee < 100:
                raise ValidationError(
                    self.env._("The deposit fee limit is a percentage from 0 to 100.")
                )
