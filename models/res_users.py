from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    unicomer_locality = fields.Char(
        string="Unicomer Collection Point",
        help="The localidad_recauda Unicomer receives with this cashier's collections.",
    )
