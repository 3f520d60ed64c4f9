from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def init(self):
        res = super().init()
        # BancoEstado asks what a customer owes on every consult and payment: without
        # this index (Odoo has none on commercial_partner_id) each call reads every move.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS account_move_latam_open_invoices_idx
            ON account_move (commercial_partner_id)
            WHERE move_type = 'out_invoice' AND state = 'posted'
              AND payment_state IN ('not_paid', 'partial')
            """
        )
        return res
