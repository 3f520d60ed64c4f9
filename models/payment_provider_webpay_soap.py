"""Webpay's legacy SOAP API as a provider setting: which wire, and its X.509 credentials.

Switching the API changes how Odoo talks to Transbank, never what a payment
does in Odoo. The merchant's private key and certificate sign every request;
Transbank's certificate verifies every answer. All three are uploaded per
environment and readable by system administrators only.
"""

import base64

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..gateways import webpay_const, wsse_signature
from ..gateways import webpay_soap_const as soap_const
from ..gateways.codes import WEBPAY
from .payment_provider import ADMIN_ONLY

SOAP_CREDENTIALS = ("soap_private_key", "soap_certificate", "soap_transbank_certificate")


def _pem(value):
    """A Binary field's content (base64 in the ORM) as PEM bytes."""
    return base64.b64decode(value) if value else b""


class PaymentProviderWebpaySoap(models.Model):
    _inherit = "payment.provider"

    webpay_api = fields.Selection(
        [("rest", "REST (current)"), ("soap", "SOAP (legacy)")],
        string="Webpay API",
        default="rest",
        required=True,
        help="REST is Transbank's current API. SOAP is the legacy one, for merchants whose "
        "contract still uses it: requests are signed with the merchant's key and certificate. "
        "Payments already open keep the API they were opened with.",
    )
    webpay_test_soap_private_key = fields.Binary(
        string="SOAP Test Private Key", attachment=False, groups=ADMIN_ONLY
    )
    webpay_test_soap_private_key_name = fields.Char(groups=ADMIN_ONLY)
    webpay_test_soap_certificate = fields.Binary(
        string="SOAP Test Certificate", attachment=False, groups=ADMIN_ONLY
    )
    webpay_test_soap_certificate_name = fields.Char(groups=ADMIN_ONLY)
    webpay_test_soap_transbank_certificate = fields.Binary(
        string="SOAP Test Transbank Certificate", attachment=False, groups=ADMIN_ONLY
    )
    webpay_test_soap_transbank_certificate_name = fields.Char(groups=ADMIN_ONLY)
    webpay_prod_soap_private_key = fields.Binary(
        string="SOAP Production Private Key", attachment=False, groups=ADMIN_ONLY
    )
    webpay_prod_soap_private_key_name = fields.Char(groups=ADMIN_ONLY)
    webpay_prod_soap_certificate = fields.Binary(
        string="SOAP Production Certificate", attachment=False, groups=ADMIN_ONLY
    )
    webpay_prod_soap_certificate_name = fields.Char(groups=ADMIN_ONLY)
    webpay_prod_soap_transbank_certificate = fields.Binary(
        string="SOAP Production Transbank Certificate", attachment=False, groups=ADMIN_ONLY
    )
    webpay_prod_soap_transbank_certificate_name = fields.Char(groups=ADMIN_ONLY)

    @api.constrains("webpay_api")
    def _check_webpay_soap_production_settings(self):
        self._check_latam_production_settings()

    @api.constrains(
        *(
            f"webpay_{environment}_{name}"
            for environment in ("test", "prod")
            for name in SOAP_CREDENTIALS
        )
    )
    def _check_webpay_soap_credentials(self):
        """Keys and certificates that cannot sign or verify are refused on upload: found
        out while reading Transbank's answer, they would leave a payment unknown."""
        for provider in self.sudo().filtered(lambda p: p.code == WEBPAY):
            for environment in ("test", "prod"):
                pems = provider._webpay_soap_credentials(environment)
                if not all(pems):
                    continue  # still being uploaded; opening a payment says what is missing
                try:
                    wsse_signature.check_credentials(*pems)
                except ValueError as error:
                    raise ValidationError(
                        self.env._(
                            "Webpay (SOAP): %(reason)s. Upload the PEM files Transbank and "
                            "your certificate authority gave you.",
                            reason=str(error),
                        )
                    ) from error

    def _webpay_soap_credentials(self, environment=None):
        """(private key, certificate, Transbank's certificate) as PEM bytes; empty if unset."""
        self.ensure_one()
        return tuple(_pem(self._latam_setting(name, environment)) for name in SOAP_CREDENTIALS)

    def _webpay_soap_commerce_code(self):
        """The commerce code SOAP calls use: in test mode, REST's integration codes
        (the provider's defaults) become SOAP's, which are other merchants at Transbank.

        Not an override of `_webpay_commerce_code`: a payment opened over REST keeps
        REST's code even after the provider switches to SOAP.
        """
        code = self._webpay_commerce_code()
        rest_defaults = {
            webpay_const.INTEGRATION_COMMERCE_CODE,
            webpay_const.INTEGRATION_DEFERRED_COMMERCE_CODE,
            webpay_const.INTEGRATION_MALL_COMMERCE_CODE,
            webpay_const.INTEGRATION_DEFERRED_MALL_COMMERCE_CODE,
        }
        if self.state != "test" or code not in rest_defaults:
            return code
        if self.webpay_mall:
            return soap_const.INTEGRATION_MALL_COMMERCE_CODE
        if self.capture_manually:
            return soap_const.INTEGRATION_CAPTURE_COMMERCE_CODE
        return soap_const.INTEGRATION_NORMAL_COMMERCE_CODE

    def _webpay_store_code(self, company):
        """Override: SOAP's integration mall has stores of its own."""
        code = super()._webpay_store_code(company)
        if (
            self.webpay_api == "soap"
            and self.state == "test"
            and code
            in (
                webpay_const.INTEGRATION_MALL_STORE_CODE,
                webpay_const.INTEGRATION_DEFERRED_MALL_STORE_CODE,
            )
        ):
            return soap_const.INTEGRATION_MALL_STORE_CODES[0]
        return code

    def _latam_missing_production_settings(self):
        """Override: a SOAP provider signs with its key and certificate, not an API key."""
        missing = super()._latam_missing_production_settings()
        if self.code != WEBPAY or self.webpay_api != "soap":
            return missing
        api_key_label = self._fields["webpay_prod_api_key"].get_description(self.env)["string"]
        missing = [label for label in missing if label != api_key_label]
        for setting in SOAP_CREDENTIALS:
            field_name = f"webpay_prod_{setting}"
            if not self[field_name]:
                missing.append(self._fields[field_name].get_description(self.env)["string"])
        return missing
