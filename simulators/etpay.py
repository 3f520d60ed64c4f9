"""ETpay (Chile, bank transfer) pay-in on loopback: session, funnel, JWT, webhook, status.

Implements ETpay's protocol as far as it is known (shared/docs/etpay.md): the
server-to-server `/session/initialize`, the funnel page the browser reaches with
a plain GET, the HS256 JWT signed with the session's `signature_token` that
comes back on the redirect (`?jwt=`) and in the webhook body (`{"payment": jwt}`),
and `/merchant/check_payment_status`.

Where ETpay's behaviour is unknown (failure statuses, whether the cancellation
redirect carries the JWT, whether the webhook comes before or after the
redirect, `exp`), the simulator makes it a setting, so tests cover each
plausible answer instead of betting on one.

It has its own HS256 code and shares nothing with the addon's client: it stands
for the other side of the wire. The funnel shows one button per outcome for a
person (the `make run` demo); tests set `autopilot` or call `decide()`.
"""

import base64
import copy
import hashlib
import hmac
import html
import http.client
import json
import re
import secrets
import string
import urllib.error
import urllib.request
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .harness import Clock, GatewaySimulator, Response, route

# The demo shop is configured with exactly these; no real ETpay credential is used.
SANDBOX_MERCHANT_CODE = "cl_sandbox_tienda_demo"
SANDBOX_API_TOKEN = "demo-token-for-the-local-simulator-only"

SESSION_PATH = "/session"
STATUS_PATH = "/merchant/check_payment_status"

# "success" is the only status seen in public integrations; the failure values are guesses.
OUTCOMES = ("success", "error", "cancelled")
WEBHOOK_MODES = ("before_redirect", "after_redirect", "never")

# Documented codes, plus `cl_mach` (customization page) and the SDK's test bank.
BANK_CODES = (
    "cl_estado",
    "cl_santander",
    "cl_bch",
    "cl_bci",
    "cl_falabella",
    "cl_itau",
    "cl_scotiabank",
    "cl_mach",
    "cl_test",
)
BANK_NAMES = {
    "cl_estado": "BancoEstado",
    "cl_santander": "Banco Santander",
    "cl_bch": "Banco de Chile",
    "cl_bci": "Banco BCI",
    "cl_falabella": "Banco Falabella",
    "cl_itau": "Banco Itaú",
    "cl_scotiabank": "Scotiabank",
    "cl_mach": "MACH",
    "cl_test": "Banco Prueba",
}
TEST_PAYER_RUT = "111111111"  # the spec's example RUT: body and check digit, no dots
WEBHOOK_TIMEOUT = 10  # seconds

# fullmatch, not `^…$`: `$` would accept a trailing newline.
_ORDER_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_RUT = re.compile(r"[0-9]{7,8}[0-9K]")
_ALPHANUMERIC = string.ascii_letters + string.digits
_URL_FIELDS = ("payment_completed_url", "payment_cancellation_url", "payment_webhook_url")
_SESSION_FIELDS = (
    "merchant_order_id",
    "order_amount",
    "customer_email",
    "metadata",
    "user_bank_code",
    "user_rut",
    "is_rut_block",
    *_URL_FIELDS,
    "concat",
)
_STATUS_KEYS = ("payment_token", "merchant_order_id", "session_token")


# --- HS256, written out: the addon's JWT code must not vouch for itself ---


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _compact_json(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def sign_jwt(claims: dict, key: str, header: dict | None = None) -> str:
    """Encode `claims` as a compact JWS signed HS256 with `key` taken as UTF-8 text.

    A `header` is used as given, so tests can forge tokens: with alg "none" the
    signature is empty (the downgrade attack); with any other alg the token is
    still HMAC-SHA256 signed, so only the header lies.
    """
    header = {"alg": "HS256", "typ": "JWT"} if header is None else header
    signing_input = f"{_b64url(_compact_json(header))}.{_b64url(_compact_json(claims))}"
    if str(header.get("alg", "")).lower() == "none":
        return signing_input + "."
    digest = hmac.new(key.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256)
    return f"{signing_input}.{_b64url(digest.digest())}"


# --- field rules for /session/initialize ---


def _random_token():
    # Observed session tokens are 64 alphanumeric characters.
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(64))


def _is_http_url(value):
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_metadata(value):
    def entry_ok(entry):
        return (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("value"), str | int | float)
            and not isinstance(entry.get("value"), bool)
            and isinstance(entry.get("show"), bool)
        )

    return isinstance(value, list) and all(entry_ok(entry) for entry in value)


# Optional fields: (name, is valid, message). A JSON null counts as absent, as SDKs send it.
_OPTIONAL_RULES = (
    ("customer_email", lambda v: isinstance(v, str), "customer_email must be a string"),
    ("metadata", _is_metadata, "metadata must be a list of {name, value, show} objects"),
    ("user_bank_code", lambda v: v in BANK_CODES, "user_bank_code is not a known bank code"),
    (
        "user_rut",
        lambda v: isinstance(v, str) and _RUT.fullmatch(v),
        "user_rut must be the RUT without dots nor hyphen, e.g. 111111111",
    ),
    ("is_rut_block", lambda v: isinstance(v, bool), "is_rut_block must be a boolean"),
    *((name, _is_http_url, f"{name} must be an http or https URL") for name in _URL_FIELDS),
    ("concat", lambda v: isinstance(v, str), "concat must be a string"),
)


def _invalid_field(payload):
    """Why the session's fields would be refused, or None."""
    order_id = payload.get("merchant_order_id")
    if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
        return "merchant_order_id must be 1 to 64 letters, digits or hyphens"
    amount = payload.get("order_amount")
    if type(amount) is not int or amount <= 0:  # `type`, since JSON true is a Python int
        return "order_amount must be a positive integer number of pesos"
    for name, valid, message in _OPTIONAL_RULES:
        if payload.get(name) is not None and not valid(payload[name]):
            return message
    return None


def _page(status, title, message=""):
    paragraph = f"<p>{html.escape(message)}</p>" if message else ""
    body = f"""<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<title>ETpay (simulador)</title></head><body style="font-family:sans-serif">
<h1>{html.escape(title)}</h1>{paragraph}</body></html>"""
    return Response.text(body, status, "text/html; charset=utf-8")


def _pesos(amount):
    return "$ " + f"{amount:,}".replace(",", ".")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answered with a redirect (say, to a login page) did not land: report the 3xx."""

    def redirect_request(self, *args, **kwargs):
        return None


# No proxy from the environment: the merchant sits on loopback in tests and the demo.
_WEBHOOK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


class EtpaySimulator(GatewaySimulator):
    name = "etpay"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reset()

    def reset(self):
        """Forget sessions, settings, faults, the request log and clock moves: a fresh gateway."""
        with self.state_lock:
            self.merchants = {SANDBOX_MERCHANT_CODE: SANDBOX_API_TOKEN}
            self.sessions = {}
            self.autopilot = None  # an outcome from OUTCOMES, or None to show buttons
            self.webhook_mode = "before_redirect"  # one of WEBHOOK_MODES
            self.webhook_deliveries = []
            self.jwt_lifetime = None  # seconds; None: no `exp` claim
            self.cancel_redirect_carries_jwt = True
            self.status_overrides = {}  # session token -> fields merged into its status element
            self.session_lifetime = 15 * 60  # seconds of self.clock
            self._webhook_queue = []
            self.clock = Clock()
        self.clear_faults()
        self.reset_log()

    # --- helpers ---

    def _error(self, status, message):
        return Response.json({"message": message}, status=status)

    def _json_object(self, request):
        try:
            payload = request.json()
        except ValueError:  # also UnicodeDecodeError
            return None
        return payload if isinstance(payload, dict) else None

    def _registered(self, code, token):
        return isinstance(token, str) and self.merchants.get(code) == token

    def _expired(self, session):
        return self.clock.now() - session["created_at"] > self.session_lifetime

    def _refusal(self, session):
        """The page for a session the payer can no longer act on, or None."""
        if session is None:
            return _page(404, "Sesión no encontrada", "El enlace de pago no es válido.")
        if session["decision"] is not None:
            return _page(409, "Pago ya procesado", "Esta sesión de pago ya terminó.")
        if self._expired(session):
            return _page(410, "Sesión expirada", "Vuelva al comercio e intente de nuevo.")
        return None

    def _iso(self, timestamp):
        return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- server to server: create the session ---

    @route("POST", SESSION_PATH + r"/initialize")
    def initialize(self, request):
        payload = self._json_object(request)
        if payload is None:
            return self._error(400, "The request body must be a JSON object")
        if not self._registered(payload.get("merchant_code"), payload.get("merchant_api_token")):
            return self._error(401, "Invalid merchant credentials")
        problem = _invalid_field(payload)
        if problem:
            return self._error(400, problem)
        session = self._new_session(payload)
        with self.state_lock:
            self.sessions[session["token"]] = session
        return Response.json(
            {
                "token": session["token"],
                "signature_token": session["signature_token"],
                "terms_url": f"{self.url}/terminos_y_condiciones.pdf",
            }
        )

    def _new_session(self, payload):
        session = {name: copy.deepcopy(payload.get(name)) for name in _SESSION_FIELDS}
        session.update(
            token=_random_token(),
            signature_token=_random_token(),
            merchant_code=payload["merchant_code"],
            created_at=self.clock.now(),
            decision=None,
            payment_token=None,
            payment_status=None,
            paid_at=None,
            payer_rut=None,
            jwt=None,
        )
        return session

    # --- the funnel the browser is sent to ---

    @route("GET", SESSION_PATH + r"/(?P<token>[^/]+)")
    def funnel(self, request, token):
        with self.state_lock:
            session = copy.deepcopy(self.sessions.get(token))
            refused = self._refusal(session)
        if refused:
            return refused
        if self.autopilot:
            return self.decide(token, self.autopilot)
        return self._funnel_page(token, session)

    def _funnel_page(self, token, session):
        metadata = "".join(
            f"<li>{html.escape(entry['name'])}: {html.escape(str(entry['value']))}</li>"
            for entry in session["metadata"] or ()
            if entry["show"]
        )
        buttons = "".join(
            f'<button type="submit" name="outcome" value="{outcome}" id="etpay-{outcome}">'
            f"{label}</button> "
            for outcome, label in (
                ("success", "Pagar"),
                ("error", "Simular rechazo del banco"),
                ("cancelled", "Cancelar y volver al comercio"),
            )
        )
        page = f"""<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<title>ETpay (simulador)</title></head><body style="font-family:sans-serif">
<h1>ETpay &mdash; simulador local</h1>
<p>Pedido <b>{html.escape(session["merchant_order_id"])}</b> por
<b>{_pesos(session["order_amount"])}</b></p><ul>{metadata}</ul>
<form method="post" action="{SESSION_PATH}/{html.escape(token)}/decide">
{self._bank_field(session)}{self._rut_field(session)}<p>{buttons}</p></form>
</body></html>"""
        return Response.text(page, content_type="text/html; charset=utf-8")

    def _bank_field(self, session):
        preset = session["user_bank_code"]
        if preset:  # ETpay then skips its bank chooser
            return f"<p>Banco: <b>{html.escape(BANK_NAMES[preset])}</b></p>"
        options = "".join(
            f'<option value="{code}">{BANK_NAMES[code]}</option>' for code in BANK_CODES
        )
        return f'<p><label>Banco <select name="bank" id="etpay-bank">{options}</select></label></p>'

    def _rut_field(self, session):
        value = html.escape(session["user_rut"] or "")
        readonly = " readonly" if session["is_rut_block"] else ""
        return (
            f'<p><label>RUT <input name="rut" id="etpay-rut" value="{value}"'
            f' placeholder="{TEST_PAYER_RUT}"{readonly}></label></p>'
        )

    @route("POST", SESSION_PATH + r"/(?P<token>[^/]+)/decide")
    def decide_form(self, request, token):
        form = request.form()
        with self.state_lock:
            session = self.sessions.get(token)
            expired = session is not None and self._expired(session)
            locked = session is not None and session["is_rut_block"]
        if expired:  # a page left open past the session's life
            return _page(410, "Sesión expirada", "Vuelva al comercio e intente de nuevo.")
        rut = None if locked else form.get("rut", "").replace(".", "").replace("-", "").upper()
        if rut and not _RUT.fullmatch(rut):
            return _page(400, "RUT inválido", "Ingrese el RUT sin puntos ni guion.")
        return self.decide(token, form.get("outcome", ""), rut=rut or None)

    def decide(self, token, outcome, rut=None):
        """Settle the session as the payer's bank would, then answer the browser.

        Public so tests can pay without a browser. The webhook goes out only once
        the lock is released: the merchant's handler may query the status
        endpoint, served by another thread that takes the same lock.
        """
        if outcome not in OUTCOMES:
            return _page(400, "Opción desconocida")
        with self.state_lock:
            session = self.sessions.get(token)
            if session is None:
                return _page(404, "Sesión no encontrada", "El enlace de pago no es válido.")
            if session["decision"] is not None:
                return _page(409, "Pago ya procesado", "Esta sesión de pago ya terminó.")
            self._record_decision(session, outcome, rut)
            webhook_now = self._schedule_webhook(session)
            location = self._return_location(session)
        if webhook_now:
            self._deliver(*webhook_now)
        if location is None:
            return _page(200, "Pago finalizado", "Puede cerrar esta ventana.")
        return Response(302, b"", {"Location": location})

    def _record_decision(self, session, outcome, rut):  # called under state_lock
        now = self.clock.now()
        session.update(
            decision=outcome,
            payment_token=_random_token(),
            payment_status=outcome,
            paid_at=self._iso(now),
            payer_rut=rut or session["user_rut"] or TEST_PAYER_RUT,
        )
        claims = {
            "session_token": session["token"],
            "payment_token": session["payment_token"],
            "payment_status": outcome,
            "merchant_order_id": session["merchant_order_id"],
            "user_rut": session["payer_rut"],
            "iat": int(now),
        }
        if self.jwt_lifetime is not None:
            claims["exp"] = int(now + self.jwt_lifetime)
        session["jwt"] = sign_jwt(claims, session["signature_token"])

    def _return_location(self, session):
        """Where the browser goes back to: with `?jwt=`, or `concat` then `jwt=`."""
        success = session["payment_status"] == "success"
        completed = session["payment_completed_url"]
        url = completed if success else session["payment_cancellation_url"] or completed
        if not url:
            return None
        if not success and not self.cancel_redirect_carries_jwt:
            return url
        joiner = "?" if session["concat"] is None else session["concat"]
        return f"{url}{joiner}jwt={session['jwt']}"

    # --- the webhook ---

    def _webhook_target(self, session):
        if session["jwt"] is None or not session["payment_webhook_url"]:
            return None
        return session["payment_webhook_url"], session["jwt"]

    def _schedule_webhook(self, session):  # called under state_lock
        """Return the (url, jwt) to send before the redirect, or queue it, or drop it."""
        target = self._webhook_target(session)
        if target and self.webhook_mode == "after_redirect":
            self._webhook_queue.append(target)
            return None
        return target if self.webhook_mode == "before_redirect" else None

    def _deliver(self, url, jwt):
        """POST `{"payment": jwt}` to the merchant; record and return what happened."""
        delivery = {"url": url, "status": None, "error": None, "jwt": jwt}
        request = urllib.request.Request(
            url,
            data=json.dumps({"payment": jwt}).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with _WEBHOOK_OPENER.open(request, timeout=WEBHOOK_TIMEOUT) as answer:
                delivery["status"] = answer.status
        except urllib.error.HTTPError as error:  # the merchant answered, with 3xx/4xx/5xx
            delivery["status"] = error.code
            error.close()
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out
            delivery["error"] = f"{type(error).__name__}: {error}"
        with self.state_lock:
            self.webhook_deliveries.append(delivery)
        return delivery

    def deliver_webhooks(self):
        """Send the webhooks held back in "after_redirect" mode; return their deliveries."""
        with self.state_lock:
            queued, self._webhook_queue = self._webhook_queue, []
        return [self._deliver(url, jwt) for url, jwt in queued]

    def resend_webhook(self, token):
        """Send the session's webhook once more, as an at-least-once sender would."""
        with self.state_lock:
            session = self.sessions.get(token)
            target = session and self._webhook_target(session)
        if not target:
            raise ValueError("no decided session with a payment_webhook_url for this token")
        return self._deliver(*target)

    # --- server to server: status query ---

    @route("POST", STATUS_PATH)
    def check_payment_status(self, request):
        payload = self._json_object(request)
        if payload is None:
            return self._error(400, "The request body must be a JSON object")
        with self.state_lock:
            merchant = self._status_merchant(payload)
            if merchant is None:
                return self._error(401, "Invalid merchant credentials")
            wanted = {
                key: payload[key] for key in _STATUS_KEYS if payload.get(key) not in (None, "")
            }
            if not wanted:
                return self._error(
                    400, "payment_token, merchant_order_id or session_token is required"
                )
            found = [
                {**element, **self.status_overrides.get(element["session_token"], {})}
                for element in self._status_elements(merchant)
                if all(element[key] == value for key, value in wanted.items())
            ]
        return Response.json(found)

    def _status_merchant(self, payload):  # called under state_lock
        """The merchant code the token authenticates (and `merchant_code` names), or None."""
        token, code = payload.get("merchant_api_token"), payload.get("merchant_code")
        if code is not None:
            return code if self._registered(code, token) else None
        return next((known for known, secret in self.merchants.items() if secret == token), None)

    def _status_elements(self, merchant):  # called under state_lock
        # Undecided sessions are not listed: an empty array means "no payment yet".
        return [
            {
                "payment_token": session["payment_token"],
                "session_token": session["token"],
                "merchant_order_id": session["merchant_order_id"],
                "payment_status": session["payment_status"],
                "order_amount": session["order_amount"],
                "payment_date": session["paid_at"],
            }
            for session in self.sessions.values()
            if session["merchant_code"] == merchant and session["decision"] is not None
        ]

    # --- for tests ---

    def session(self, token):
        with self.state_lock:
            return copy.deepcopy(self.sessions.get(token))

    def jwt_for(self, token):
        with self.state_lock:
            return (self.sessions.get(token) or {}).get("jwt")

    def status_calls(self):
        return len(self.requests_to(STATUS_PATH + "$"))
