from odoo import api, fields, models

from ..gateways import rut


class ResPartner(models.Model):
    _inherit = "res.partner"

    latam_rut = fields.Char(
        string="RUT (compact)",
        help="The tax ID as a Chilean RUT without dots or hyphen, when it is a valid one: "
        "how BancoEstado identifies the customer paying at a Caja Vecina.",
        compute="_compute_latam_rut",
        store=True,
        index="btree_not_null",
    )

    @api.depends("vat")
    def _compute_latam_rut(self):
        for partner in self:
            partner.latam_rut = rut.normalize(partner.vat) or False
