"""Transbank's legacy SOAP Oneclick (Normal and Mall): paths, WSDLs, codes, limits.

Every number here comes from Transbank's SOAP reference (the "Oneclick Normal"
and "Oneclick Mall" chapters) unless its comment says otherwise.
"""

# Service paths on Transbank's hosts; `?wsdl` on either serves its WSDL.
NORMAL_PATH = "/webpayserver/wswebpay/OneClickPaymentService"
MALL_PATH = "/WSWebpayTransaction/cxf/WSOneClickMulticodeService"

# Our own WSDLs (gateways/wsdl/), written from the reference's parameter tables.
NORMAL_WSDL = "oneclick_payment_service.wsdl"
MALL_WSDL = "oneclick_multicode_service.wsdl"
# One namespace for both, the one of Transbank's other SOAP services: the
# simulator answers every service in it.
NAMESPACE = "http://service.wswebpay.webpay.transbank.com/"

# Inscription fields: the reference gives 256 for Oneclick Normal and no limit
# for Mall; both services get Normal's limit rather than none.
USERNAME_MAX_LENGTH = 256
EMAIL_MAX_LENGTH = 256
RESPONSE_URL_MAX_LENGTH = 256

# Buy orders typed xs:long (Normal's, the mall's in authorize): positive Java longs.
LONG_BUY_ORDER_MAX = 2**63 - 1

# The browser goes to the inscription form by POST with this field, and comes
# back to the merchant's return URL with it.
TOKEN_FIELD = "TBK_TOKEN"

APPROVED_RESPONSE_CODE = 0
# authorize() response codes besides 0 (approved).
REJECTION_CODES = frozenset({-1, -2, -3, -4, -5, -6, -7, -8})
NO_INSCRIPTION_CODE = -96  # Oneclick Normal only
DAILY_AMOUNT_LIMIT_CODE = -97
AMOUNT_LIMIT_CODE = -98
DAILY_COUNT_LIMIT_CODE = -99
LIMIT_CODES = frozenset({DAILY_AMOUNT_LIMIT_CODE, AMOUNT_LIMIT_CODE, DAILY_COUNT_LIMIT_CODE})


# Oneclick Mall: reverse() undoes a whole mall operation, and only this many
# seconds after authorize() was called. Past it, nullify() each store's part.
MALL_REVERSE_WINDOW_SECONDS = 30

# Store buy orders, capture fields (Mall): the reference's lengths.
STORE_BUY_ORDER_MAX_LENGTH = 26
AUTHORIZATION_CODE_MAX_LENGTH = 6
COMMERCE_CODE_LENGTH = 12
SHORT_COMMERCE_CODE_LENGTH = 8
SHORT_COMMERCE_CODE_PREFIX = "5970"  # 8-digit codes are written with it in front
AMOUNT_MAX_DIGITS = 10

# SOAP Fault codes Transbank documents for nullify() and capture().
FAULT_NULL_INPUT = 304
FAULT_UNKNOWN_COMMERCE = 245
FAULT_INACTIVE_COMMERCE = 22
FAULT_COMMERCE_NOT_OF_CERTIFICATE = 316
FAULT_NOT_ALLOWED = 308
FAULT_NOT_FOUND = 274
FAULT_NO_NULLIFICATION = 16  # capture(): the transaction is not a deferred-capture one
FAULT_NOT_AUTHORIZED = 292
FAULT_PERIOD_EXCEEDED = 284
FAULT_ALREADY_NULLIFIED = 310  # capture(): already reversed
FAULT_ALREADY_CAPTURED = 309
FAULT_AMOUNT_EXCEEDS = 311
FAULT_NULLIFICATION_ERROR = 312
FAULT_AUTHORIZER_ERROR = 315
FAULT_NO_PARTIAL_WITH_INSTALLMENTS = 53

# Seconds (connect, read) to wait for `authorize`: well inside Oneclick Mall's 30-second
# reversal window, so a lost answer can still be reversed.
AUTHORIZE_TIMEOUT = (5, 15)
