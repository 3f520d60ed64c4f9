from odoo.addons.payment.tests.http_common import PaymentHttpCommon
from odoo.addons.payment_latam.gateways import unicomer_api
from odoo.addons.payment_latam.models import unicomer_collection
from odoo.addons.payment_latam.simulators.unicomer import (
    SANDBOX_IDCOMMERCE,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    UnicomerSimulator,
)
from odoo.addons.payment_latam.tests.common import PaymentLatamCommon

CUSTOMER = "0101690808"  # the spec's customer: two credits, 228085 and 228086
CREDIT = 228085


class UnicomerCommon(PaymentHttpCommon, PaymentLatamCommon):
    """The Unicomer provider in test mode against a real Unicomer simulator on loopback.

    An HttpCase: Odoo's registry is in test mode, so the token store's own
    cursor and the flow's commits stay inside the test's transaction.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = UnicomerSimulator().start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.provider = cls.unicomer
        cls.payable = cls.env["account.account"].search(
            [
                ("account_type", "=", "liability_payable"),
                ("company_ids", "in", cls.provider.company_id.id),
            ],
            limit=1,
        )
        cls.provider.write(
            {
                "state": "test",
                "unicomer_test_api_url": cls.simulator.url,
                "unicomer_test_username": SANDBOX_USERNAME,
                "unicomer_test_password": SANDBOX_PASSWORD,
                "unicomer_test_idcommerce": SANDBOX_IDCOMMERCE,
                "unicomer_default_locality": "MATRIZ CUENCA",
                "unicomer_payable_account_id": cls.payable.id,
            }
        )
        cls.currency_usd.active = True

    def setUp(self):
        self.enable_post_process_patcher = False  # collections are booked for real
        super().setUp()
        self.simulator.reset()
        self.env.cr.execute("DELETE FROM payment_unicomer_token")

    def _statement(self, customer=CUSTOMER):
        return unicomer_collection.client_for(self.provider).account_statement(customer)

    def _credit(self, credit_id=CREDIT, customer=CUSTOMER):
        credits = {credit.credit_id: credit for credit in self._statement(customer).credits}
        return credits[credit_id]

    def _collect(self, amount="50.00", credit=None, customer=CUSTOMER, user=None):
        credit = credit or self._credit(customer=customer)
        return unicomer_collection.collect(
            self.provider,
            customer_vat=customer,
            customer_name="LUIS ALBERTO DELEG",
            credit=credit,
            amount=amount,
            locality="MATRIZ CUENCA",
            user=user or self.env.user,
        )

    def _register_requests(self):
        return self.simulator.requests_to(r"registrar")

    def _sim_payments(self):
        return self.simulator.payments

    @staticmethod
    def _money(value):
        return unicomer_api.money(value)
