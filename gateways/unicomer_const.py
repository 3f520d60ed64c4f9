"""Unicomer collectors API (Ecuador): hosts and currency."""

# Hosts printed in Unicomer's API document (v4.2); both stay editable.
DEVELOPMENT_API_URL = "https://ecdeveloper.Unicomer.com:9443/"
PRODUCTION_API_URL = "https://ecapi.Unicomer.com:2052/"

SUPPORTED_CURRENCIES = ("USD",)
DEFAULT_PAYMENT_METHOD_CODES = {"unicomer"}

PRODUCTION_SETTINGS = ("api_url", "username", "password", "idcommerce")
