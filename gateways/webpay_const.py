"""Transbank Webpay (REST API): hosts, integration credentials, limits."""

# Transbank's documented hosts; both stay editable on the provider.
INTEGRATION_API_URL = "https://webpay3gint.transbank.cl"
PRODUCTION_API_URL = "https://webpay3g.transbank.cl"

# Published by Transbank for its integration environment (developer docs and
# official SDKs): not secrets, and useless outside integration.
INTEGRATION_COMMERCE_CODE = "597055555532"
# The integration commerce code set up for deferred capture (same key).
INTEGRATION_DEFERRED_COMMERCE_CODE = "597055555540"
INTEGRATION_API_KEY = "579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C"

SUPPORTED_CURRENCIES = ("CLP",)
DEFAULT_PAYMENT_METHOD_CODES = {"webpay"}

# Webpay Plus Mall: a mall commerce code, and the stores (commerce codes) selling.
INTEGRATION_MALL_COMMERCE_CODE = "597055555535"
INTEGRATION_MALL_STORE_CODE = "597055555536"
INTEGRATION_DEFERRED_MALL_COMMERCE_CODE = "597055555581"
INTEGRATION_DEFERRED_MALL_STORE_CODE = "597055555582"

# Oneclick Mall (saved cards): a mall commerce code and the store that sells.
INTEGRATION_ONECLICK_COMMERCE_CODE = "597055555541"
INTEGRATION_ONECLICK_STORE_CODE = "597055555542"
ONECLICK_API_PATH = "/rswebpaytransaction/api/oneclick/v1.2"
# Transbank's limits on an inscription.
ONECLICK_USERNAME_MAX_LENGTH = 40
ONECLICK_EMAIL_MAX_LENGTH = 100
ONECLICK_RESPONSE_URL_MAX_LENGTH = 255

# Settings a provider must have before it may leave test mode.
PRODUCTION_SETTINGS = ("commerce_code", "api_key", "api_url")
# ... and before it may save cards (Oneclick Mall) in production.
ONECLICK_PRODUCTION_SETTINGS = ("oneclick_commerce_code", "oneclick_store_code", "oneclick_api_key")

# REST API (Webpay Plus). v1.2 is the version every Transbank environment serves.
API_PATH = "/rswebpaytransaction/api/webpay/v1.2"

# Transbank's limits on the create call.
BUY_ORDER_MAX_LENGTH = 26
SESSION_ID_MAX_LENGTH = 61
RETURN_URL_MAX_LENGTH = 256
# Characters Transbank accepts in a buy order besides letters and digits.
BUY_ORDER_SYMBOLS = "|_=&%.,~:/?[+!@()>-"

# Seconds: connect, read. Transbank answers a commit in a few seconds; past
# these the outcome is unknown and is resolved by asking the status.
TIMEOUT = (5, 30)

# A transaction is approved only when both hold.
APPROVED_STATUS = "AUTHORIZED"
APPROVED_RESPONSE_CODE = 0

# Statuses after which no money will move for that token.
FAILED_STATUSES = {"FAILED", "REVERSED", "NULLIFIED"}
# A deferred authorization after its capture.
CAPTURED_STATUS = "CAPTURED"
# Statuses of a transaction some or all of whose money went back.
REFUNDED_STATUSES = {"REVERSED", "NULLIFIED", "PARTIALLY_NULLIFIED"}

# What a refund turned into; Transbank decides (a full refund within 3 hours
# of the sale is a reversal, anything else a nullification).
REFUND_REVERSED = "REVERSED"
REFUND_NULLIFIED = "NULLIFIED"
REFUND_TYPES = (REFUND_REVERSED, REFUND_NULLIFIED)
# A refund whose answer was lost and that Transbank's status does not show
# after this long did not happen.
REFUND_SETTLE_MINUTES = 60

# payment_type_code values Transbank documents (labels live on the transaction field):
# VD Redcompra debit, VN credit, VC credit in installments, SI/S2/NC interest-free
# installments (3, 2, N), VP prepaid.
PAYMENT_TYPE_CODES = frozenset({"VD", "VN", "VC", "SI", "S2", "NC", "VP"})

# response_code of a rejected authorization → reason key (worded in the model).
REJECTION_REASONS = {
    -1: "rejected",
    -2: "card_or_account",
    -3: "transbank_error",
    -4: "issuer_rejected",
    -5: "fraud_risk",
}

# How long the shopper has on Transbank's form; a pending token older than
# this (plus a margin) that Transbank still reports unpaid is abandoned.
FORM_LIFETIME_MINUTES = 10
