from datetime import date

from odoo import Command

from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_latam.simulators.bancoestado_client import BancoEstadoClient
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon, through_test_server

CLIENT_RUT = "76086428-5"
OTHER_RUT = "11111111-1"


class CajaVecinaCommon(PaymentHttpCommon, PaymentLatamCommon):
    """The Caja Vecina webservice on Odoo's test server, BancoEstado played by its
    client simulator over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = cls.cajavecina
        # The loopback addresses stand for BancoEstado's: an open webservice answers nobody.
        cls.provider.write(
            {"state": "test", "is_published": True, "cajavecina_allowed_ips": "127.0.0.1, ::1"}
        )
        cls.payment_method = cls.env.ref("payment_latam.payment_method_cajavecina")
        cls.payment_method_id = cls.payment_method.id
        cls.payment_method_code = cls.payment_method.code
        cls.partner.vat = CLIENT_RUT
        cls.other_partner = cls.env["res.partner"].create(
            {"name": "Otra Clienta", "vat": OTHER_RUT, "country_id": cls.chile.id}
        )

    def _bank(self, style="rpc", soap_version="1.1", path="/bancoestado/web/", **options):
        return BancoEstadoClient(
            self._build_url(path), style=style, soap_version=soap_version, **options
        )

    def _as_bank(self, call, *args, **kwargs):
        return through_test_server(self.env, call, *args, **kwargs)

    def _consult(self, rut=CLIENT_RUT, **client_options):
        return self._as_bank(self._bank(**client_options).consultar_cliente, rut)

    def _pay(self, factura, monto, rut=CLIENT_RUT, transaccion="594012", **client_options):
        return self._as_bank(
            self._bank(**client_options).registrar_pago,
            rut,
            factura,
            monto,
            descripcion="1158627",
            pasarela="oficina",
            transaccion=transaccion,
        )

    def _invoice(self, amount=15990, partner=None, due=date(2026, 11, 30)):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or self.partner).id,
                "currency_id": self.currency_clp.id,
                "invoice_date": date(2026, 11, 1),
                "invoice_date_due": due,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Plan hogar", "quantity": 1, "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _factura(self, record):
        from odoo.addons.payment_latam.models.cajavecina_service import document_number

        return document_number(record)

    def _exchanges(self):
        return self.env["payment.cajavecina.exchange"].search([], order="id")
