"""BancoEstado Caja Vecina: here the bank calls us. Names, codes and formats of the
webservice Mikrowisp documents, in one place."""

SUPPORTED_CURRENCIES = ("CLP",)
DEFAULT_PAYMENT_METHOD_CODES = {"cajavecina"}

# How the RESPUESTA document travels back to the bank: escaped inside
# <return> (what NuSOAP-based billers answer) or as inline XML elements.
RESPONSE_MODE_ESCAPED = "escaped"
RESPONSE_MODE_INLINE = "inline"

# Operation and part names, byte-identical to the bank's client configuration.
CONSULT = "consultarCliente"
REGISTER = "registrarPago"
OPERATIONS = {
    CONSULT: ("rutCliente",),
    REGISTER: ("rutCliente", "factura", "monto", "descripcion", "pasarela", "transaccion"),
}
REQUIRED_PARTS = {CONSULT: ("rutCliente",), REGISTER: ("rutCliente", "factura", "monto")}
# Longest value accepted per part (the spec's lengths; transaccion: 18 digits).
PART_MAX_LENGTH = {
    "rutCliente": 12,
    "factura": 8,
    "monto": 18,
    "descripcion": 100,
    "pasarela": 18,
    "transaccion": 18,
}

# The namespace NuSOAP-based Mikrowisp clones publish ("ws/"); requests are read by
# local name, so any namespace the bank sends is accepted.
SERVICE_NAMESPACE = "ws/"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"
SOAP12_CONTENT_TYPE = "application/soap+xml; charset=utf-8"

# CODIGO_ERROR values of the spec.
OK = 0
SERVICE_PROBLEM = 1
NOTHING_TO_PAY = 2
UNKNOWN_RUT = 3
ACCEPTED = "aceptado"

# Identifiers, zero-padded as the spec's samples: ID_CLIENTE 000001, factura 00000005.
CLIENT_ID_WIDTH = 6
DOCUMENT_WIDTH = 8
# A payable document is a customer invoice (its id) or a pending shop payment
# (this offset + the transaction's id), so both fit in the factura's 8 digits.
TRANSACTION_DOCUMENT_OFFSET = 90_000_000

MAX_REQUEST_BYTES = 64 * 1024  # the spec's envelopes are well under 2 KB
HARD_MAX_REQUEST_BYTES = 1024 * 1024  # beyond this the HTTP layer refuses to read at all
SANTIAGO_TZ = "America/Santiago"

DEBT_OLDEST = "oldest"
DEBT_TOTAL = "total"
AMOUNT_EXACT = "exact"
AMOUNT_PARTIAL = "partial"
DEFAULT_LOG_RETENTION_DAYS = 400
DEFAULT_DUE_DAYS = 3  # a shop order paid in cash is due this many days after checkout
