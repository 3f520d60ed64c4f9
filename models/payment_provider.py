from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..gateways import cajavecina_const, caller_access, etpay_const, unicomer_const, webpay_const
from ..gateways.codes import CAJAVECINA, ETPAY, PROVIDER_CODES, UNICOMER, WEBPAY
from . import cajavecina_service

CONSTANTS_BY_CODE = {
    WEBPAY: webpay_const,
    ETPAY: etpay_const,
    CAJAVECINA: cajavecina_const,
    UNICOMER: unicomer_const,
}

REDIRECT_FORMS = {
    WEBPAY: "payment_latam.webpay_redirect_form",
    ETPAY: "payment_latam.etpay_redirect_form",
    CAJAVECINA: "payment_latam.cajavecina_redirect_form",
}

# Credentials are readable and writable by system administrators only; the
# ORM enforces it on every read, write and view.
ADMIN_ONLY = "base.group_system"


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    code = fields.Selection(
        selection_add=[
            (WEBPAY, "Webpay"),
            (ETPAY, "ETpay"),
            (CAJAVECINA, "Caja Vecina"),
            (UNICOMER, "Unicomer"),
        ],
        ondelete=dict.fromkeys(PROVIDER_CODES, "set default"),
    )

    # === Webpay (Transbank REST API) === #
    webpay_test_commerce_code = fields.Char(
        string="Webpay Test Commerce Code",
        default=webpay_const.INTEGRATION_COMMERCE_CODE,
        groups=ADMIN_ONLY,
    )
    webpay_test_api_key = fields.Char(
        string="Webpay Test API Key Secret",
        default=webpay_const.INTEGRATION_API_KEY,
        groups=ADMIN_ONLY,
    )
    webpay_test_api_url = fields.Char(
        string="Webpay Test API URL", default=webpay_const.INTEGRATION_API_URL
    )
    webpay_prod_commerce_code = fields.Char(
        string="Webpay Production Commerce Code", groups=ADMIN_ONLY
    )
    webpay_prod_api_key = fields.Char(string="Webpay Production API Key Secret", groups=ADMIN_ONLY)
    webpay_prod_api_url = fields.Char(
        string="Webpay Production API URL", default=webpay_const.PRODUCTION_API_URL
    )

    webpay_mall = fields.Boolean(
        string="Webpay Plus Mall",
        help="The commerce code is a mall's: each payment names the store selling, "
        "from the stores below (per company, or per website with the shop).",
    )
    webpay_store_ids = fields.One2many(
        string="Webpay Mall Stores",
        comodel_name="payment.webpay.store",
        inverse_name="provider_id",
        groups=ADMIN_ONLY,
    )
    # Oneclick Mall: saved cards. A mall commerce code of its own and the store selling.
    webpay_test_oneclick_commerce_code = fields.Char(
        string="Oneclick Test Mall Commerce Code",
        default=webpay_const.INTEGRATION_ONECLICK_COMMERCE_CODE,
        groups=ADMIN_ONLY,
    )
    webpay_test_oneclick_store_code = fields.Char(
        string="Oneclick Test Store Commerce Code",
        default=webpay_const.INTEGRATION_ONECLICK_STORE_CODE,
        groups=ADMIN_ONLY,
    )
    webpay_test_oneclick_api_key = fields.Char(
        string="Oneclick Test API Key Secret",
        default=webpay_const.INTEGRATION_API_KEY,
        groups=ADMIN_ONLY,
    )
    webpay_prod_oneclick_commerce_code = fields.Char(
        string="Oneclick Production Mall Commerce Code", groups=ADMIN_ONLY
    )
    webpay_prod_oneclick_store_code = fields.Char(
        string="Oneclick Production Store Commerce Code", groups=ADMIN_ONLY
    )
    webpay_prod_oneclick_api_key = fields.Char(
        string="Oneclick Production API Key Secret", groups=ADMIN_ONLY
    )

    # === ETpay === #
    etpay_test_merchant_code = fields.Char(string="ETpay Sandbox Merchant Code", groups=ADMIN_ONLY)
    etpay_test_api_token = fields.Char(string="ETpay Sandbox API Token", groups=ADMIN_ONLY)
    etpay_test_api_url = fields.Char(
        string="ETpay Sandbox API URL", default=etpay_const.SANDBOX_API_URL
    )
    etpay_test_payment_page_url = fields.Char(
        string="ETpay Sandbox Payment Page URL", default=etpay_const.SANDBOX_PAYMENT_PAGE_URL
    )
    etpay_prod_merchant_code = fields.Char(
        string="ETpay Production Merchant Code", groups=ADMIN_ONLY
    )
    etpay_prod_api_token = fields.Char(string="ETpay Production API Token", groups=ADMIN_ONLY)
    etpay_prod_api_url = fields.Char(
        string="ETpay Production API URL",
        help="Given by ETpay to each merchant; a path after the host is kept.",
    )
    etpay_prod_payment_page_url = fields.Char(
        string="ETpay Production Payment Page URL",
        help="Given by ETpay to each merchant.",
    )

    etpay_bank_code = fields.Selection(
        string="Preselected Bank",
        selection=list(etpay_const.BANK_CODES),
        help="Send payers straight to this bank's login on ETpay's page. Empty: they choose.",
    )
    etpay_prefill_rut = fields.Boolean(
        string="Prefill the Customer's RUT",
        help="Send the customer's RUT (from the tax ID) so ETpay's page shows it filled in.",
        default=True,
    )
    etpay_lock_rut = fields.Boolean(
        string="Lock the Prefilled RUT",
        help="The payer cannot change the prefilled RUT on ETpay's page.",
    )
    etpay_status_check_delay = fields.Integer(
        string="Ask ETpay After (minutes)",
        help="A payment still pending this long after it started is checked with ETpay.",
        default=etpay_const.DEFAULT_STATUS_CHECK_DELAY,
    )
    etpay_session_lifetime = fields.Integer(
        string="Session Lifetime (minutes)",
        help="After this, a payment ETpay knows nothing of is cancelled.",
        default=etpay_const.DEFAULT_SESSION_LIFETIME,
    )

    # === Caja Vecina (BancoEstado calls Odoo) === #
    cajavecina_allowed_ips = fields.Char(
        string="Allowed Caller Addresses",
        help="Comma-separated IP addresses or CIDR ranges BancoEstado calls from. "
        "Empty: any address.",
        groups=ADMIN_ONLY,
    )
    cajavecina_trusted_proxies = fields.Char(
        string="Trusted Proxies",
        help="Comma-separated addresses of reverse proxies whose X-Forwarded-For header is "
        "believed.",
        groups=ADMIN_ONLY,
    )
    cajavecina_basic_auth_user = fields.Char(string="HTTP Basic User", groups=ADMIN_ONLY)
    cajavecina_basic_auth_password = fields.Char(string="HTTP Basic Password", groups=ADMIN_ONLY)
    cajavecina_path_secret = fields.Char(
        string="Secret Path Segment",
        help="If set, BancoEstado must call /bancoestado/<secret>/web/ instead of "
        "/bancoestado/web/.",
        groups=ADMIN_ONLY,
    )
    cajavecina_response_mode = fields.Selection(
        string="Response Mode",
        selection=[
            (cajavecina_const.RESPONSE_MODE_ESCAPED, "Escaped string in <return>"),
            (cajavecina_const.RESPONSE_MODE_INLINE, "Inline XML elements"),
        ],
        default=cajavecina_const.RESPONSE_MODE_ESCAPED,
    )
    cajavecina_debt_mode = fields.Selection(
        string="Debt Offered to the Bank",
        selection=[
            (cajavecina_const.DEBT_OLDEST, "The oldest open document"),
            (cajavecina_const.DEBT_TOTAL, "The total debt"),
        ],
        default=cajavecina_const.DEBT_OLDEST,
        help="What consultarCliente answers as TOTAL for a RUT.",
    )
    cajavecina_amount_policy = fields.Selection(
        string="Amounts Accepted",
        selection=[
            (cajavecina_const.AMOUNT_EXACT, "Exactly the document's balance"),
            (cajavecina_const.AMOUNT_PARTIAL, "Up to the invoice's balance (partial payments)"),
        ],
        default=cajavecina_const.AMOUNT_EXACT,
        help="Overpayments are always refused; shop orders are always paid in full.",
    )
    cajavecina_due_days = fields.Integer(
        string="Days to Pay a Shop Order",
        default=cajavecina_const.DEFAULT_DUE_DAYS,
        help="The due date shown to the shopper and to the bank for an order paid in cash.",
    )
    cajavecina_client_id_as_document = fields.Boolean(
        string="Accept the Client Id as Factura",
        help="BancoEstado's consult answer has no invoice number. If the bank sends back the "
        "ID_CLIENTE as factura, pay the document the consult offered (oldest-document mode "
        "only; the bank must then send its transaction number).",
    )
    cajavecina_log_retention_days = fields.Integer(
        string="Keep Exchanges (days)",
        default=cajavecina_const.DEFAULT_LOG_RETENTION_DAYS,
    )
    cajavecina_webservice_url = fields.Char(
        string="Webservice URL for BancoEstado",
        compute="_compute_cajavecina_webservice_url",
        groups=ADMIN_ONLY,  # it carries the secret path segment
    )

    # === Unicomer (Odoo calls Unicomer as a collection agent) === #
    unicomer_test_api_url = fields.Char(
        string="Unicomer Development API URL", default=unicomer_const.DEVELOPMENT_API_URL
    )
    unicomer_test_username = fields.Char(string="Unicomer Development User", groups=ADMIN_ONLY)
    unicomer_test_password = fields.Char(string="Unicomer Development Password", groups=ADMIN_ONLY)
    unicomer_test_idcommerce = fields.Char(
        string="Unicomer Development Collector Id", groups=ADMIN_ONLY
    )
    unicomer_prod_api_url = fields.Char(
        string="Unicomer Production API URL", default=unicomer_const.PRODUCTION_API_URL
    )
    unicomer_prod_username = fields.Char(string="Unicomer Production User", groups=ADMIN_ONLY)
    unicomer_prod_password = fields.Char(string="Unicomer Production Password", groups=ADMIN_ONLY)
    unicomer_prod_idcommerce = fields.Char(
        string="Unicomer Production Collector Id", groups=ADMIN_ONLY
    )
    unicomer_partner_id = fields.Many2one(
        "res.partner",
        string="Unicomer Partner",
        help="Whom the collected cash is owed to: the payments are received from this partner.",
    )
    unicomer_payable_account_id = fields.Many2one(
        "account.account",
        string="Owed to Unicomer Account",
        domain="[('account_type', '=', 'liability_payable')]",
        help="Where collected cash is owed until it is remitted; "
        "by default the partner's payable account.",
    )
    unicomer_commission_account_id = fields.Many2one(
        "account.account",
        string="Collection Commission Income",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="When set, each credit's commission (porc_comision) is recognised as income "
        "and deducted from what is owed to Unicomer.",
    )
    unicomer_default_locality = fields.Char(
        string="Default Collection Point",
        help="localidad_recauda sent for cashiers who have no collection point of their own.",
    )
    unicomer_read_timeout = fields.Integer(
        string="Answer Timeout (s)",
        default=unicomer_const.TIMEOUT[1],
        help="How long to wait for Unicomer's answer. A payment whose answer does not come "
        "in time is asked about (consultarpago), never sent again blindly.",
    )
    unicomer_log_retention_days = fields.Integer(string="Keep API Exchanges (days)", default=365)
    unicomer_login_path = fields.Char(
        string="Login (Token) Path", default=unicomer_const.DEFAULT_PATHS["login"]
    )
    unicomer_account_statement_path = fields.Char(
        string="Account Statement Path", default=unicomer_const.DEFAULT_PATHS["account_statement"]
    )
    unicomer_register_path = fields.Char(
        string="Register Payment Path", default=unicomer_const.DEFAULT_PATHS["register"]
    )
    unicomer_reverse_path = fields.Char(
        string="Reverse Payment Path", default=unicomer_const.DEFAULT_PATHS["reverse"]
    )
    unicomer_status_path = fields.Char(
        string="Payment Status Path", default=unicomer_const.DEFAULT_PATHS["status"]
    )
    unicomer_conciliation_path = fields.Char(
        string="Conciliation Path", default=unicomer_const.DEFAULT_PATHS["conciliation"]
    )

    # === CONSTRAINT METHODS === #

    @api.constrains(
        "cajavecina_due_days",
        "cajavecina_log_retention_days",
        "cajavecina_allowed_ips",
        "cajavecina_trusted_proxies",
    )
    def _check_cajavecina_settings(self):
        for provider in self.sudo().filtered(lambda p: p.code == CAJAVECINA):
            if provider.cajavecina_due_days < 1 or provider.cajavecina_log_retention_days < 1:
                raise ValidationError(
                    self.env._(
                        "Caja Vecina: the days to pay and to keep exchanges must be positive."
                    )
                )
            for setting in ("cajavecina_allowed_ips", "cajavecina_trusted_proxies"):
                try:
                    caller_access.parse_networks(provider[setting])
                except ValueError as error:
                    raise ValidationError(
                        self.env._(
                            "Caja Vecina: %(value)s is not an IP address or CIDR range.",
                            value=provider[setting],
                        )
                    ) from error

    @api.constrains(
        "state", "allow_tokenization", "cajavecina_allowed_ips", "cajavecina_basic_auth_user"
    )
    def _check_latam_production_settings(self):
        """A provider going live must carry the merchant's own production settings."""
        for provider in self.sudo().filtered(lambda p: p.state == "enabled"):
            missing = provider._latam_missing_production_settings()
            if missing:
                raise ValidationError(
                    self.env._(
                        "%(provider)s cannot be enabled: its production settings are missing "
                        "(%(fields)s). Enter the values your contract with the provider gave "
                        "you, or keep it in test mode.",
                        provider=provider.name,
                        fields=", ".join(missing),
                    )
                )

    @api.constrains("etpay_status_check_delay", "etpay_session_lifetime")
    def _check_etpay_delays(self):
        for provider in self.filtered(lambda p: p.code == ETPAY):
            delay, lifetime = provider.etpay_status_check_delay, provider.etpay_session_lifetime
            if delay <= 0 or lifetime < delay:
                raise ValidationError(
                    self.env._(
                        "ETpay: the status check delay must be positive and the session "
                        "lifetime at least as long."
                    )
                )

    @api.constrains("state", "cajavecina_path_secret", "code")
    def _check_cajavecina_single_endpoint(self):
        """One webservice address, one provider: the bank's call must not land on
        another company's provider by chance."""
        active = self.search([("code", "=", CAJAVECINA), ("state", "!=", "disabled")])
        secrets = [provider.sudo().cajavecina_path_secret or "" for provider in active]
        if len(secrets) != len(set(secrets)):
            raise ValidationError(
                self.env._(
                    "Two active Caja Vecina providers would answer at the same address: give "
                    "each a different secret path segment."
                )
            )

    def _latam_missing_production_settings(self):
        """Return the labels of the empty production settings of this provider."""
        self.ensure_one()
        constants = CONSTANTS_BY_CODE.get(self.code)
        required = getattr(constants, "PRODUCTION_SETTINGS", ())
        if self.allow_tokenization:
            required += getattr(constants, "ONECLICK_PRODUCTION_SETTINGS", ())
        missing = []
        for setting in required:
            field_name = f"{self.code}_prod_{setting}"
            if not self[field_name]:
                missing.append(self._fields[field_name].get_description(self.env)["string"])
        if self.code == CAJAVECINA and not self._cajavecina_caller_checked():
            missing.append(self.env._("allowed caller addresses or an HTTP Basic user"))
        return missing

    # === COMPUTE METHODS === #

    @api.depends("code", "cajavecina_path_secret")
    def _compute_cajavecina_webservice_url(self):
        for provider in self:
            if provider.code != CAJAVECINA:
                provider.cajavecina_webservice_url = False
                continue
            secret = provider.cajavecina_path_secret
            path = f"/bancoestado/{secret}/web/" if secret else "/bancoestado/web/"
            provider.cajavecina_webservice_url = f"{provider.get_base_url().rstrip('/')}{path}?wsdl"

    def _compute_feature_support_fields(self):
        """Override of `payment`: Webpay refunds (in part too) and captures deferred sales."""
        res = super()._compute_feature_support_fields()
        self.filtered(lambda provider: provider.code == WEBPAY).update(
            {
                # Transbank captures an authorization once: no partial captures.
                "support_manual_capture": "full_only",
                "support_refund": "partial",
                "support_tokenization": True,  # Oneclick Mall
            }
        )
        # Unicomer: a registered collection is reversed whole (void), never refunded.
        # Its "authorized" state (registered, reversible for 3 minutes) needs the flag.
        self.filtered(lambda provider: provider.code == UNICOMER).update(
            {
                "support_manual_capture": "full_only",
                "support_refund": "none",
                "support_tokenization": False,
            }
        )
        # ETpay has no refund API (a transfer is refunded by hand), no tokens, no capture.
        self.filtered(lambda provider: provider.code == ETPAY).update(
            {
                "support_manual_capture": False,
                "support_refund": "none",
                "support_tokenization": False,
            }
        )
        return res

    # === BUSINESS METHODS === #

    def _archive_linked_tokens(self):
        """Override of `payment`: a provider changing state archives its tokens even
        when Transbank cannot be reached to delete their inscriptions (an emergency
        disable must not depend on the gateway); those are logged instead."""
        return super(
            PaymentProvider, self.with_context(webpay_tolerate_unreachable=True)
        )._archive_linked_tokens()

    def _cajavecina_caller_checked(self):
        """Whether the webservice knows who may call it: without an address allowlist
        or HTTP Basic credentials, anyone could register payments."""
        self.ensure_one()
        provider = self.sudo()
        return bool(provider.cajavecina_allowed_ips or provider.cajavecina_basic_auth_user)

    def _cajavecina_handle(self, call):
        """Answer one of BancoEstado's calls (a parsed `SoapRequest`): (RESPUESTA, summary)."""
        self.ensure_one()
        provider = self.sudo()
        if call.operation == cajavecina_const.CONSULT:
            return cajavecina_service.consult(provider, call.parts)
        return cajavecina_service.register(provider, call.parts)

    def _get_redirect_form_view(self, is_validation=False):
        """Override of `payment`: each channel's redirect form, also for providers whose
        record lost it or predates it (their data is `noupdate`, never rewritten)."""
        res = super()._get_redirect_form_view(is_validation=is_validation)
        if not res and self.code in REDIRECT_FORMS:
            return self.env.ref(REDIRECT_FORMS[self.code])
        return res

    def _webpay_store_code(self, company):
        """The mall store selling for `company` (Transbank's integration store in test)."""
        self.ensure_one()
        store = self.sudo().webpay_store_ids.filtered(lambda line: line.company_id == company)[:1]
        if store:
            return store.store_code
        if self.state == "test":
            if self.capture_manually:
                return webpay_const.INTEGRATION_DEFERRED_MALL_STORE_CODE
            return webpay_const.INTEGRATION_MALL_STORE_CODE
        return False

    def _webpay_commerce_code(self):
        """Return the commerce code Webpay calls use.

        Deferred capture and malls are properties of the commerce code at
        Transbank. In test mode, Transbank's default integration code is swapped
        for the integration code set up for what the provider does.
        """
        self.ensure_one()
        code = self._latam_setting("commerce_code")
        if self.state == "test" and code == webpay_const.INTEGRATION_COMMERCE_CODE:
            return {
                (False, False): code,
                (False, True): webpay_const.INTEGRATION_DEFERRED_COMMERCE_CODE,
                (True, False): webpay_const.INTEGRATION_MALL_COMMERCE_CODE,
                (True, True): webpay_const.INTEGRATION_DEFERRED_MALL_COMMERCE_CODE,
            }[(self.webpay_mall, self.capture_manually)]
        return code

    def _latam_environment(self):
        return "test" if self.state == "test" else "prod"

    def _latam_setting(self, name, environment=None):
        """Return setting `name` for `environment`, by default the provider's own.

        Test mode reads the `<code>_test_<name>` field, enabled providers the
        `<code>_prod_<name>` one, so switching a provider live never mixes a
        production key with a test URL. A payment opened in one environment is
        followed up in that one, whatever the provider's state is now.
        """
        self.ensure_one()
        environment = environment or self._latam_environment()
        return self.sudo()[f"{self.code}_{environment}_{name}"]

    def _get_supported_currencies(self):
        """Override of `payment` to restrict each channel to its currencies."""
        supported_currencies = super()._get_supported_currencies()
        constants = CONSTANTS_BY_CODE.get(self.code)
        if constants:
            supported_currencies = supported_currencies.filtered(
                lambda currency: currency.name in constants.SUPPORTED_CURRENCIES
            )
        return supported_currencies

    def _get_default_payment_method_codes(self):
        """Override of `payment` to return each channel's own payment methods."""
        default_codes = super()._get_default_payment_method_codes()
        constants = CONSTANTS_BY_CODE.get(self.code)
        if constants:
            return set(constants.DEFAULT_PAYMENT_METHOD_CODES)
        return default_codes
