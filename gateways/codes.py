"""The provider codes this addon registers, in checkout order."""

WEBPAY = "webpay"
ETPAY = "etpay"
CAJAVECINA = "cajavecina"
UNICOMER = "unicomer"

PROVIDER_CODES = (WEBPAY, ETPAY, CAJAVECINA, UNICOMER)
