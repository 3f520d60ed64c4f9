"""Transbank Webpay (REST API): hosts, integration credentials, limits."""

# Transbank's documented hosts; both stay editable on the provider.
INTEGRATION_API_URL = "https://webpay3gint.transbank.cl"
PRODUCTION_API_URL = "https://webpay3g.transbank.cl"

# Published by Transbank for its integration environment (developer docs and
# official SDKs): not secrets, and useless outside integration.
INTEGRATION_COMMERCE_CODE = "597055555532"
INTEGRATION_API_KEY = "579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C"

SUPPORTED_CURRENCIES = ("CLP",)
DEFAULT_PAYMENT_METHOD_CODES = {"webpay"}

# Settings a provider must have before it may leave test mode.
PRODUCTION_SETTINGS = ("commerce_code", "api_key", "api_url")
