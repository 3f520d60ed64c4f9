from datetime import timedelta

from odoo.addons.payment.tests.common import PaymentCommon
from odoo.addons.payment_latam.gateways.codes import PROVIDER_CODES


def through_test_server(env, call, *args, **kwargs):
    """Run `call`, which reaches Odoo's test server over HTTP (a gateway's webhook, the
    bank's SOAP call): that server shares the test's cursor, so what the test wrote
    must be flushed first, and what the request wrote read afresh after (as
    `url_open` does for the test's own requests)."""
    env.flush_all()
    result = call(*args, **kwargs)
    env.invalidate_all()
    return result


class PaymentLatamCommon(PaymentCommon):
    """PaymentCommon with Chilean defaults: CLP, integer amounts, a Chilean buyer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.currency_clp = cls._prepare_currency("CLP")
        cls.currency_usd = cls._prepare_currency("USD")
        cls.currency = cls.currency_clp
        cls.amount = 15990.0  # a whole number of pesos, as a float like every Odoo amount
        cls.chile = cls.env.ref("base.cl")
        cls.ecuador = cls.env.ref("base.ec")
        cls.partner.write({"country_id": cls.chile.id, "vat": "76086428-5"})
        cls.latam_providers = {
            code: cls.env.ref(f"payment_latam.payment_provider_{code}") for code in PROVIDER_CODES
        }
        cls.webpay = cls.latam_providers["webpay"]
        cls.etpay = cls.latam_providers["etpay"]
        cls.cajavecina = cls.latam_providers["cajavecina"]
        cls.unicomer = cls.latam_providers["unicomer"]

    def _age(self, tx, minutes):
        """Make `tx` as old as if it had been created `minutes` earlier."""
        tx.flush_recordset()
        self.env.cr.execute(
            "UPDATE payment_transaction SET create_date = %s WHERE id = %s",
            [tx.create_date - timedelta(minutes=minutes), tx.id],
        )
        tx.invalidate_recordset(["create_date"])
