"""Unicomer collectors API (Ecuador): hosts, paths, states and the rules we chose
where the spec is silent or contradicts itself (shared/docs/unicomer.md, section 4)."""

from datetime import timedelta

# Hosts printed in Unicomer's API document (v4.2); both stay editable.
DEVELOPMENT_API_URL = "https://ecdeveloper.Unicomer.com:9443/"
PRODUCTION_API_URL = "https://ecapi.Unicomer.com:2052/"

SUPPORTED_CURRENCIES = ("USD",)
DEFAULT_PAYMENT_METHOD_CODES = {"unicomer"}

PRODUCTION_SETTINGS = ("api_url", "username", "password", "idcommerce")

# Every path is a setting: the spec spells "registrar pago" with a space, its
# siblings are one word, and nobody has confirmed which one the server serves.
DEFAULT_PATHS = {
    "login": "token",
    "account_statement": "api/recaudadores/estadocuenta",
    "register": "api/recaudadores/registrarpago",
    "reverse": "api/recaudadores/reversapago",
    "status": "api/recaudadores/consultarpago",
    "conciliation": "api/recaudadores/conciliacion",
}

# Connect, read (seconds). The spec gives no guidance; a cashier waits at most this.
TIMEOUT = (5, 30)

# A token lives 14 days; renew it a day before, and at the first 401.
TOKEN_RENEWAL_MARGIN = timedelta(days=1)

# Unicomer "waits 3 minutes before synchronizing": reversal is possible until then.
REVERSAL_WINDOW = timedelta(minutes=3)

# A collection still "being sent" after this long was cut off: its outcome is asked for.
STALE_SENDING = timedelta(minutes=2)

# fch_proceso is Ecuador's local time (the spec states no zone; UTC-5, no DST).
LOCAL_TIMEZONE = "America/Guayaquil"
PROCESS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.000"

# `cod_status` of consultarpago and `estado` of the conciliación.
NOT_FOUND = -1
REGISTERED = 0
SYNCHRONIZED = 1
ZOMBIE = 2
REVERSED = 4
SYNC_PROBLEM = 99
KNOWN_STATES = (NOT_FOUND, REGISTERED, SYNCHRONIZED, ZOMBIE, REVERSED, SYNC_PROBLEM)
# States where Unicomer holds the money: the collection counts and must be remitted.
COLLECTED_STATES = (REGISTERED, SYNCHRONIZED)
# States no resend may follow and a person must look at.
REVIEW_STATES = (ZOMBIE, SYNC_PROBLEM)

# `estado` filter of the conciliación: 0 means "every state" (not "registered").
CONCILIATION_ALL_STATES = 0

# registrarpago is resent (identical body) only after consultarpago said "does not
# exist"; past this many resends a person decides.
MAX_RESENDS = 2

# After this many consults without an answer (an hour of the 5-minute cron), a person is
# told; the cron goes on asking, and the day's conciliación remains the last resort.
MAX_UNANSWERED_ASKS = 12

# Keys whose values never reach a log line or the exchange log.
SECRET_KEYS = ("password", "access_token", "username", "userName", "idcommerce")

# Unicomer's payment states as the `unicomer_status` selection keys of a collection,
# next to the steps of ours that come before Unicomer has a state for it.
STATE_KEYS = {
    NOT_FOUND: "not_found",
    REGISTERED: "registered",
    SYNCHRONIZED: "synchronized",
    ZOMBIE: "zombie",
    REVERSED: "reversed",
    SYNC_PROBLEM: "sync_problem",
}
