"""Transbank Webpay legacy SOAP API: paths, types, windows and error codes.

No Odoo imports. Values come from Transbank's SOAP API reference
(shared/specs/transbank-webpay-soap-reference.txt) unless a comment says otherwise.
"""

import os

INTEGRATION_URL = "https://webpay3gint.transbank.cl"
PRODUCTION_URL = "https://webpay3g.transbank.cl"

# Service paths on either host; the WSDL is the same path with "?wsdl".
WEBPAY_SERVICE_PATH = "/WSWebpayTransaction/cxf/WSWebpayService"
COMMERCE_INTEGRATION_PATH = "/WSWebpayTransaction/cxf/WSCommerceIntegrationService"

# Our own WSDLs (written from the spec's tables), loaded locally: fetching
# Transbank's at run time would add a network call and trust to every start.
WSDL_DIR = os.path.join(os.path.dirname(__file__), "wsdl")
WEBPAY_WSDL = "WSWebpayService.wsdl"
COMMERCE_INTEGRATION_WSDL = "WSCommerceIntegrationService.wsdl"

# Namespaces on the wire.
SERVICE_NS = "http://service.wswebpay.webpay.transbank.com/"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"

# wsTransactionType of initTransaction.
TR_NORMAL_WS = "TR_NORMAL_WS"
TR_MALL_WS = "TR_MALL_WS"

# Commerce codes are 12 digits; Transbank's 8-digit codes get this prefix.
COMMERCE_CODE_LENGTH = 12
SHORT_COMMERCE_CODE_LENGTH = 8
COMMERCE_CODE_PREFIX = "5970"

# Limits of initTransaction (same as REST's).
BUY_ORDER_MAX_LENGTH = 26
SESSION_ID_MAX_LENGTH = 61
URL_MAX_LENGTH = 256

# getTransactionResult on a token whose shopper pressed "Anular" faults with this.
ABORTED_CODE = 272

# acknowledgeTransaction must arrive this many seconds after getTransactionResult,
# or Transbank reverses the authorization.
ACKNOWLEDGE_WINDOW_SECONDS = 30
# A retry of a lost acknowledge is only sent with at least this margin left:
# one arriving after the window is worse than useless (the money is reversed).
ACKNOWLEDGE_RETRY_MARGIN_SECONDS = 3
# Between two acknowledgements: a lost answer is rarely fixed by hammering at once.
ACKNOWLEDGE_RETRY_PAUSE_SECONDS = 1

# Seconds: connect, read (as the REST client). Past these the outcome is unknown.
TIMEOUT = (5, 30)
# Reading a result: an answer later than this leaves too little of the 30-second window
# to acknowledge it (and an unacknowledged result is reversed anyway).
RESULT_TIMEOUT = (5, 15)

# How long a signed message is good for, and the clock skew tolerated.
TIMESTAMP_LIFETIME_SECONDS = 300
MAX_CLOCK_SKEW_SECONDS = 300

# getTransactionResult detail responseCode.
APPROVED_RESPONSE_CODE = 0
# The REST result classes read these statuses.
AUTHORIZED_STATUS = "AUTHORIZED"
FAILED_STATUS = "FAILED"

# SOAP Fault codes of capture() and nullify() → short reason keys (worded elsewhere).
FAULT_REASONS = {
    304: "missing_input",  # null input fields
    245: "unknown_commerce",
    22: "commerce_inactive",
    316: "commerce_not_certificate",  # not the certificate's commerce, or not a store of the mall
    308: "not_allowed",
    274: "transaction_not_found",
    16: "not_deferred_or_not_nullifiable",  # capture: not deferred; nullify: does not allow it
    292: "not_authorized",
    284: "period_exceeded",  # capture: 7 days; nullify: 90 days
    310: "already_reversed_or_nullified",
    309: "already_captured",
    311: "amount_exceeds",  # capture: above the authorized; nullify: above the balance
    312: "nullify_error",
    315: "authorizer_error",
    53: "no_partial_installments",  # partial nullification of an installment sale
    ABORTED_CODE: "aborted",
}

# nullify answers no type: it is always a nullification (reversals are REST's).
NULLIFIED = "NULLIFIED"

# Integration commerce codes published by Transbank for the SOAP API: not
# secrets. The spec names 597020000540; the capture and mall ones are those of
# Transbank's SDK 1.x test configurations [sdk: recalled, confirm against
# transbank-webpay-credenciales]. Their keys and certificates are never stored
# in this repository; tests and the simulator generate their own.
INTEGRATION_NORMAL_COMMERCE_CODE = "597020000540"
INTEGRATION_CAPTURE_COMMERCE_CODE = "597044444404"
INTEGRATION_MALL_COMMERCE_CODE = "597044444401"
INTEGRATION_MALL_STORE_CODES = ("597044444402", "597044444403")
