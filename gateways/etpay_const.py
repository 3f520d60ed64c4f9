"""ETpay pay-in: hosts, paths, limits and the status vocabulary, in one place."""

import re

# Sandbox hosts seen in ETpay's public integrations. ETpay gives every merchant
# its own production hosts, so production has no default.
SANDBOX_API_URL = "https://api-sandbox.etpay.com"
SANDBOX_PAYMENT_PAGE_URL = "https://pmt-sandbox.etpay.com"

SUPPORTED_CURRENCIES = ("CLP",)
DEFAULT_PAYMENT_METHOD_CODES = {"etpay"}

PRODUCTION_SETTINGS = ("merchant_code", "api_token", "api_url", "payment_page_url")

# Paths are appended to the merchant's API URL, which may itself carry a path.
INITIALIZE_PATH = "/session/initialize"
STATUS_PATH = "/merchant/check_payment_status"
SESSION_PAGE_PATH = "/session/"
SESSION_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_.~-]{1,256}$")

# (connect, read) seconds: an outbound call never waits longer.
TIMEOUT = (5, 20)

# merchant_order_id: "alphanumeric, max 64"; ETpay's own example carries a hyphen.
ORDER_ID_MAX_LENGTH = 64
ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,64}$")

# Banks ETpay documents for `user_bank_code` (lower case, as in its pages).
BANK_CODES = (
    ("cl_estado", "BancoEstado"),
    ("cl_santander", "Santander"),
    ("cl_bch", "Banco de Chile"),
    ("cl_bci", "Bci"),
    ("cl_falabella", "Banco Falabella"),
    ("cl_itau", "Itaú"),
    ("cl_scotiabank", "Scotiabank"),
    ("cl_mach", "MACH"),
)

# `payment_status` values. Only "success" is documented; ETpay speaks of a final
# "success/error". The negative words below are the ones a payment API may use:
# anything else is unknown, and an unknown status is settled by asking ETpay.
STATUS_SUCCESS = "success"
STATUSES_CANCELED = frozenset({"cancelled", "canceled", "cancel", "aborted", "expired"})
STATUSES_FAILED = frozenset({"error", "failed", "failure", "rejected", "declined"})

OUTCOME_DONE = "done"
OUTCOME_CANCELED = "canceled"
OUTCOME_FAILED = "failed"
OUTCOME_UNKNOWN = "unknown"


def outcome_of(payment_status):
    """Map ETpay's `payment_status` to what the transaction does."""
    status = str(payment_status or "").strip().lower()
    if status == STATUS_SUCCESS:
        return OUTCOME_DONE
    if status in STATUSES_CANCELED:
        return OUTCOME_CANCELED
    if status in STATUSES_FAILED:
        return OUTCOME_FAILED
    return OUTCOME_UNKNOWN


# Cron defaults (minutes): ask ETpay about a payment left pending after the
# first delay; once the session lifetime is over and ETpay knows no payment,
# the payment is cancelled.
DEFAULT_STATUS_CHECK_DELAY = 10
DEFAULT_SESSION_LIFETIME = 60
# Older payments are no longer asked about: a person looks at them.
STATUS_WINDOW_DAYS = 30
