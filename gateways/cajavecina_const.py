"""BancoEstado Caja Vecina: here the bank calls us, so settings are about who may call."""

SUPPORTED_CURRENCIES = ("CLP",)
DEFAULT_PAYMENT_METHOD_CODES = {"cajavecina"}

# How the RESPUESTA document travels back to the bank: escaped inside
# <return> (what NuSOAP-based billers answer) or as inline XML elements.
RESPONSE_MODE_ESCAPED = "escaped"
RESPONSE_MODE_INLINE = "inline"
