"""ETpay pay-in: sandbox hosts and limits."""

# Sandbox hosts seen in ETpay's public integrations. ETpay gives every merchant
# its own production hosts, so production has no default.
SANDBOX_API_URL = "https://api-sandbox.etpay.com"
SANDBOX_PAYMENT_PAGE_URL = "https://pmt-sandbox.etpay.com"

SUPPORTED_CURRENCIES = ("CLP",)
DEFAULT_PAYMENT_METHOD_CODES = {"etpay"}

PRODUCTION_SETTINGS = ("merchant_code", "api_token", "api_url", "payment_page_url")
