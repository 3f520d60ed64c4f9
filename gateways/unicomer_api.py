"""Unicomer's collectors API, as the collection agent calls it. No Odoo imports.

Every call but `/token` carries a bearer token obtained by password grant and
kept in a `TokenStore` (the Odoo side keeps it in the database, so that every
worker shares it and only one renews it at a time). A 401 renews the token and
repeats the call once.

What a caller learns from a call:
- a return value: Unicomer answered status 0;
- `UnicomerRejected`: Unicomer answered an error envelope. `certain` is False
  when the envelope was only readable after repairing its JSON (the spec's
  error samples end with a trailing comma): the caller must confirm with
  `consultarpago` before believing it;
- `UnicomerNotSent`: the request never left (no token, no connection);
- `UnicomerUnknownOutcome`: timeout, dropped connection, 5xx or an answer we
  cannot read: Unicomer may or may not have acted.
"""

import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests

from . import unicomer_const as const
from .urls import join_url

_CENT = Decimal("0.01")
_JSON_TYPE = "application/json; charset=utf-8"
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class UnicomerError(Exception):
    """Base class of everything this client raises."""


class UnicomerNotSent(UnicomerError):
    """The request never reached Unicomer: nothing can have happened there."""


class UnicomerUnknownOutcome(UnicomerError):
    """Unicomer may or may not have acted on the call."""


class UnicomerAuthError(UnicomerNotSent):
    """Unicomer refused our credentials (the call itself was never accepted)."""


class UnicomerRejected(UnicomerError):
    """Unicomer answered with a non-zero `status`."""

    def __init__(self, status, message, certain=True):
        super().__init__(f"status {status}: {message}")
        self.status = status
        self.message = message
        self.certain = certain


# --- values --------------------------------------------------------------------


def normalize_status(value):
    """The envelope's `status` as an int (the API sends 0, "0" or "451"); None if unreadable."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def money(value):
    """A JSON amount as Decimal to the cent, without passing through binary floats' arithmetic."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not an amount")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def amount_text(amount):
    """`amount` as the JSON number text Unicomer reads: dot separator, two decimals."""
    return f"{money(amount):.2f}"


def process_time(moment=None):
    """`fch_proceso` for `moment` (an aware datetime; now by default), in Ecuador's time."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(ZoneInfo(const.LOCAL_TIMEZONE)).strftime(const.PROCESS_TIME_FORMAT)


_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def parse_local_datetime(text):
    """A Unicomer date-time (with or without milliseconds) as a naive local datetime,
    to the second; None when unreadable."""
    text = str(text or "").strip()
    for pattern in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(microsecond=0)
        except ValueError:
            continue
    return None


def same_second(first, second):
    """Whether two Unicomer date-times name the same second (formats differ between calls)."""
    first, second = parse_local_datetime(first), parse_local_datetime(second)
    return first is not None and first == second


def _json_value(value):
    if isinstance(value, Decimal):
        return amount_text(value)
    return json.dumps(value, ensure_ascii=False)


def json_object(pairs):
    """A JSON object text in the given key order, Decimals as exact numbers."""
    return "{" + ", ".join(f"{json.dumps(key)}: {_json_value(value)}" for key, value in pairs) + "}"


def payment_body(*, credit_id, idcommerce, processed_at, amount, locality, cashier, receipt_number):
    """The registrarpago body. It is frozen when the collection is created and sent
    byte for byte on any resend: its first four fields are the reversal key."""
    return json_object(
        [
            ("secuencial", int(credit_id)),
            ("idcommerce", idcommerce),
            ("fch_proceso", processed_at),
            ("val_pagado", money(amount)),
            ("localidad_recauda", locality),
            ("nombre_cajero", cashier),
            ("num_recibo", receipt_number),
        ]
    )


def mask_secrets(text):
    """`text` (a JSON or form body) with the values of secret keys replaced."""
    if not text:
        return text or ""
    for key in const.SECRET_KEYS:
        text = re.sub(rf'("{re.escape(key)}"\s*:\s*)"[^"]*"', r'\1"***"', text)
        text = re.sub(rf"(^|&)({re.escape(key)}=)[^&]*", r"\1\2***", text)
    return text


# --- answers -------------------------------------------------------------------


def _text(value):
    return "" if value is None else str(value).strip()


def _int(value, default=None):
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, TypeError, ValueError):
        return default


def _optional_money(value):
    try:
        return money(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Credit:
    """One of a customer's credits (`facturas[]`): what a cashier chooses to pay."""

    credit_id: int
    invoice: str
    item: str
    installment: Decimal
    term: int
    installments_paid: int
    installments_pending: int
    installments_overdue: int
    next_due: str
    days_overdue: int
    overdue_amount: Decimal
    charges: Decimal
    late_interest: Decimal
    amount_due: Decimal
    total_debt: Decimal
    commission_rate: Decimal
    chain: str

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise UnicomerUnknownOutcome("a credit is not a JSON object")
        credit_id = _int(data.get("id"))
        if credit_id is None:
            raise UnicomerUnknownOutcome("a credit has no id")
        factura = data.get("factura")
        return cls(
            credit_id=credit_id,
            invoice=_text(data.get("factura_full")) or _text(factura),
            item=_text(data.get("item_desc")),
            installment=_optional_money(data.get("credito_cuota")) or Decimal("0.00"),
            term=_int(data.get("credito_plazo"), 0),
            installments_paid=_int(data.get("cuotas_pagadas"), 0),
            installments_pending=_int(data.get("cuotas_pendientes"), 0),
            installments_overdue=_int(data.get("cuotas_vencidas"), 0),
            next_due=_text(data.get("prox_fecvto")),
            days_overdue=_int(data.get("dias_mora"), 0),
            overdue_amount=_optional_money(data.get("monto_vencido")) or Decimal("0.00"),
            charges=_optional_money(data.get("recargo_gasto")) or Decimal("0.00"),
            late_interest=_optional_money(data.get("interes_mora")) or Decimal("0.00"),
            amount_due=_optional_money(data.get("valor_pagar")) or Decimal("0.00"),
            total_debt=_optional_money(data.get("deuda_tot_conpro"))
            or _optional_money(data.get("deuda_tot_sinpro"))
            or Decimal("0.00"),
            commission_rate=_optional_money(data.get("porc_comision")) or Decimal("0.00"),
            chain=_text(data.get("cadena")),
        )


@dataclass(frozen=True)
class AccountStatement:
    identification: str
    name: str
    document_type: str
    city: str
    email: str
    address: str
    credits: tuple = ()
    phones: tuple = ()

    @classmethod
    def from_json(cls, data):
        statement = data.get("estado_cuenta") if isinstance(data, dict) else None
        if not isinstance(statement, dict):
            raise UnicomerUnknownOutcome("the account statement has no estado_cuenta")
        customer = statement.get("datosCliente") or {}
        if not isinstance(customer, dict):
            raise UnicomerUnknownOutcome("datosCliente is not a JSON object")
        credits = statement.get("facturas") or []
        phones = statement.get("telefonos") or []
        if not isinstance(credits, list) or not isinstance(phones, list):
            raise UnicomerUnknownOutcome("facturas or telefonos is not a list")
        names = " ".join(
            part
            for part in (_text(customer.get("cl_nombres")), _text(customer.get("cl_apellidos")))
            if part
        )
        return cls(
            identification=_text(customer.get("cl_cedruc")),
            name=names,
            document_type=_text(customer.get("tipo_doc")),
            city=_text(customer.get("ciudadcliente")),
            email=_text(customer.get("cl_email")),
            address=_text(customer.get("cl_direcc1")),
            credits=tuple(Credit.from_json(credit) for credit in credits),
            phones=tuple(
                _text(phone.get("telefono")) for phone in phones if isinstance(phone, dict)
            ),
        )


@dataclass(frozen=True)
class PaymentStatus:
    """consultarpago's `data`: Unicomer's state of one payment."""

    state: int
    detail: str
    transaction_id: int | None
    receipt_number: str

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise UnicomerUnknownOutcome("the payment status has no data")
        state = normalize_status(data.get("cod_status"))
        if state not in const.KNOWN_STATES:
            raise UnicomerUnknownOutcome(f"unknown cod_status {data.get('cod_status')!r}")
        return cls(
            state=state,
            detail=_text(data.get("det_status")),
            transaction_id=_int(data.get("idtrx")) or None,
            receipt_number=_text(data.get("num_recibo")),
        )


@dataclass(frozen=True)
class ConciliationRow:
    """One payment of the day as Unicomer recorded it."""

    credit_id: int | None
    transaction_id: int | None
    receipt_number: str
    processed_at: str
    registered_at: str
    amount: Decimal | None
    state: int | None
    state_label: str
    collector: str

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise UnicomerUnknownOutcome("a conciliation row is not a JSON object")
        return cls(
            credit_id=_int(data.get("secuencial")),
            transaction_id=_int(data.get("idtrx")),
            receipt_number=_text(data.get("num_recibo")),
            processed_at=_text(data.get("fch_proceso")),
            registered_at=_text(data.get("fch_registro")),
            amount=_optional_money(data.get("val_pagado")),
            state=normalize_status(data.get("estado")),
            state_label=_text(data.get("estado_desc")),
            collector=_text(data.get("comercio")),
        )


# --- tokens --------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: datetime  # aware, UTC

    def usable(self, now):
        return bool(self.access_token) and self.expires_at - const.TOKEN_RENEWAL_MARGIN > now


class MemoryTokenStore:
    """A token store for one process (tests, scripts). Odoo uses the database instead."""

    def __init__(self):
        self._lock = threading.Lock()
        self._token = None

    def current(self):
        return self._token

    def renew(self, stale_token, login):
        """Single flight: the first caller logs in; the others get its token."""
        with self._lock:
            if self._token and self._token.access_token != stale_token:
                return self._token
            self._token = login()
            return self._token


def token_from_answer(answer, now):
    """A `Token` from `/token`'s JSON: expiry from `.expires`, else `expires_in`."""
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        raise UnicomerUnknownOutcome("the token answer has no access_token")
    expires_at = None
    if answer.get(".expires"):
        try:
            expires_at = parsedate_to_datetime(str(answer[".expires"]))
        except (TypeError, ValueError):
            expires_at = None
        if expires_at is not None and expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=timezone.utc)
    if expires_at is None:
        seconds = _int(answer.get("expires_in"), 0)
        expires_at = now + timedelta(seconds=max(seconds, 0))
    return Token(answer["access_token"], expires_at.astimezone(timezone.utc))


# --- the client ----------------------------------------------------------------


@dataclass
class Exchange:
    """One HTTP exchange, secrets masked: what the audit log keeps."""

    operation: str
    url: str
    request_body: str
    http_status: int | None = None
    response_body: str = ""
    duration_ms: int = 0
    error: str = ""


def _decode(body):
    """(envelope, certain): the JSON answer, repairing the trailing commas of the spec's
    error samples; certain is False when a repair was needed. Raises ValueError."""
    try:
        return json.loads(body), True
    except ValueError:
        repaired = _TRAILING_COMMA.sub(r"\1", body)
        if repaired == body:
            raise
        return json.loads(repaired), False


def _not_sent(error):
    if isinstance(error, requests.ConnectTimeout):
        return True
    # Refused or unresolvable: the connection never opened, so nothing was sent.
    return isinstance(error, requests.ConnectionError) and "NewConnectionError" in repr(error)


class UnicomerClient:
    def __init__(
        self,
        api_url,
        username,
        password,
        idcommerce,
        token_store,
        *,
        paths=None,
        timeout=const.TIMEOUT,
        on_exchange=None,
        session=None,
        now=None,
    ):
        self.api_url = api_url
        self.username = username or ""
        self.password = password or ""
        self.idcommerce = idcommerce or ""
        self.token_store = token_store
        self.paths = {**const.DEFAULT_PATHS, **(paths or {})}
        self.timeout = timeout
        self.on_exchange = on_exchange
        self.session = session or requests
        self.now = now or (lambda: datetime.now(timezone.utc))

    # --- transport ---

    def _send(self, operation, path_key, *, data, content_type, token=None):
        """POST once; return the requests.Response. Raises NotSent / UnknownOutcome."""
        url = join_url(self.api_url, self.paths[path_key])
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        exchange = Exchange(operation, url, mask_secrets(data))
        started = time.monotonic()
        try:
            response = self.session.post(
                url, data=data.encode("utf-8"), headers=headers, timeout=self.timeout
            )
        except requests.RequestException as error:
            exchange.error = type(error).__name__
            self._record(exchange, started)
            if _not_sent(error):
                raise UnicomerNotSent(f"{type(error).__name__} reaching Unicomer") from error
            raise UnicomerUnknownOutcome(f"{type(error).__name__} calling Unicomer") from error
        exchange.http_status = response.status_code
        exchange.response_body = mask_secrets(response.text[:20000])
        self._record(exchange, started)
        return response

    def _record(self, exchange, started):
        exchange.duration_ms = int((time.monotonic() - started) * 1000)
        if self.on_exchange:
            self.on_exchange(exchange)

    def login(self):
        """Password grant on /token; return a `Token`."""
        form = urlencode(
            {"username": self.username, "password": self.password, "grant_type": "password"}
        )
        try:
            response = self._send(
                "token",
                "login",
                data=form,
                content_type="application/x-www-form-urlencoded; charset=utf-8",
            )
        except UnicomerUnknownOutcome as error:
            raise UnicomerNotSent("no token from Unicomer") from error
        if response.status_code in (400, 401, 403):
            raise UnicomerAuthError("Unicomer refused the collector's user or password")
        if response.status_code != 200:
            raise UnicomerNotSent(f"Unicomer's token endpoint answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as error:
            raise UnicomerNotSent("Unicomer's token answer is not JSON") from error
        try:
            return token_from_answer(answer, self.now())
        except UnicomerUnknownOutcome as error:
            raise UnicomerNotSent(str(error)) from error

    def _token(self):
        token = self.token_store.current()
        if token and token.usable(self.now()):
            return token.access_token
        return self.token_store.renew(
            token.access_token if token else None, self.login
        ).access_token

    def _call(self, operation, path_key, payload, *, form_fallback=False):
        """POST `payload` (a JSON text or a dict) with the bearer token; return `data`."""
        body = payload if isinstance(payload, str) else json_object(payload.items())
        token = self._token()

        def send_json(token):
            return self._send(operation, path_key, data=body, content_type=_JSON_TYPE, token=token)

        response = send_json(token)
        if response.status_code == 401:
            # An expired or revoked token: Unicomer refused before acting. Renew once.
            token = self.token_store.renew(token, self.login).access_token
            response = send_json(token)
            if response.status_code == 401:
                raise UnicomerAuthError("Unicomer refused a fresh token")
        if response.status_code == 415 and form_fallback and isinstance(payload, dict):
            # The spec's header says form, its example JSON: try the other encoding once.
            form = urlencode({key: _form_value(value) for key, value in payload.items()})
            response = self._send(
                operation,
                path_key,
                data=form,
                content_type="application/x-www-form-urlencoded; charset=utf-8",
                token=token,
            )
        return self._envelope(response)

    @staticmethod
    def _envelope(response):
        if response.status_code != 200:
            raise UnicomerUnknownOutcome(f"Unicomer answered HTTP {response.status_code}")
        try:
            answer, certain = _decode(response.text)
        except ValueError as error:
            raise UnicomerUnknownOutcome("Unicomer's answer is not JSON") from error
        if not isinstance(answer, dict) or "status" not in answer:
            raise UnicomerUnknownOutcome("Unicomer's answer has no status")
        status = normalize_status(answer.get("status"))
        if status is None:
            raise UnicomerUnknownOutcome(f"unreadable status {answer.get('status')!r}")
        if status != 0:
            message = _text(answer.get("msg"))[:300] or "no message"
            raise UnicomerRejected(status, message, certain=certain)
        if not certain:
            raise UnicomerUnknownOutcome("Unicomer's success answer is not valid JSON")
        return answer.get("data")

    # --- operations ---

    def account_statement(self, customer_id):
        """The customer's data and credits (`estadocuenta`)."""
        data = self._call(
            "estadocuenta",
            "account_statement",
            {"cliente": customer_id, "idcommerce": self.idcommerce},
        )
        return AccountStatement.from_json(data)

    def register_payment(self, body):
        """Send the frozen registrarpago `body`; return Unicomer's idtrx."""
        data = self._call("registrarpago", "register", body)
        transaction_id = _int(data.get("idtrx")) if isinstance(data, dict) else None
        if not transaction_id:
            raise UnicomerUnknownOutcome("registrarpago answered status 0 without idtrx")
        return transaction_id

    def payment_status(self, key, processed_at, amount):
        """consultarpago for `key` (idtrx, or the credit id when the idtrx was lost)."""
        data = self._call(
            "consultarpago",
            "status",
            {
                "secuencial": int(key),
                "idcommerce": self.idcommerce,
                "fch_proceso": processed_at,
                "val_pagado": money(amount),
            },
            form_fallback=True,
        )
        return PaymentStatus.from_json(data)

    def reverse_payment(self, transaction_id, processed_at, amount):
        """reversapago; returns the receipt number Unicomer names (may be empty)."""
        data = self._call(
            "reversapago",
            "reverse",
            {
                "secuencial": int(transaction_id),
                "idcommerce": self.idcommerce,
                "fch_proceso": processed_at,
                "val_pagado": money(amount),
            },
            form_fallback=True,
        )
        return _text(data.get("num_recibo")) if isinstance(data, dict) else ""

    def conciliation(self, day):
        """Every payment Unicomer recorded for `day` (a date), in all states."""
        rows = None
        first_error = None
        # The spec documents yyyy-mm-dd and shows dd-mm-yyyy: ask the other way on
        # a refusal or an empty day.
        for text in (day.strftime("%Y-%m-%d"), day.strftime("%d-%m-%Y")):
            try:
                data = self._call(
                    "conciliacion",
                    "conciliation",
                    {
                        "fecha": text,
                        "idcommerce": self.idcommerce,
                        "estado": const.CONCILIATION_ALL_STATES,
                    },
                    form_fallback=True,
                )
            except UnicomerRejected as error:
                first_error = first_error or error
                continue
            if data is None:
                data = []
            if not isinstance(data, list):
                raise UnicomerUnknownOutcome("the conciliation's data is not a list")
            rows = [ConciliationRow.from_json(row) for row in data]
            if rows:
                return rows
        if rows is None:
            raise first_error
        return rows


def _form_value(value):
    if isinstance(value, Decimal):
        return amount_text(value)
    return str(value)
