"""Unicomer "recaudadores" (Ecuador retail credit collections) on loopback.

Odoo is the collection agent here: it calls this API. The simulator implements
the spec (shared/specs/unicomer-recaudadores-api.txt, API Server v4.2) with
the quirks it shows, so the client is tested against them:

- `/token` is an ASP.NET OAuth password grant (form body, `.issued`/`.expires`
  as RFC 1123 dates, `invalid_grant` on HTTP 400); every `/api/recaudadores/*`
  route wants `Authorization: Bearer`, else HTTP 401 ASP.NET style;
- envelopes `{"status", "msg", "data"}` on HTTP 200: success status is the
  int 0 except reversapago's string "0"; error statuses are strings and, with
  `quirky_json`, come with the spec's trailing comma (invalid JSON);
- registrarpago answers both on `registrarpago` and on the spec's
  `registrar%20pago`; a payment stays "Registrado" (0, reversible) for
  `sync_delay` seconds of the simulator clock, then turns "Sincronizado" (1);
- consultarpago accepts the idtrx or the credit id as `secuencial` (the spec
  says both); reversapago, consultarpago and conciliacion take JSON or form
  bodies (`json_only_paths` / `form_only_paths` make either one HTTP 415);
- conciliacion's `fecha` is `YYYY-MM-DD` or `DD-MM-YYYY` (spec text vs example),
  see `conciliation_date_format`.

Money is `Decimal` end to end and rendered as JSON numbers with two decimals.
Where Unicomer's behaviour is unknown the simulator makes it a setting. It
imports nothing from Odoo nor from the addon: it stands for the other side of
the wire.
"""

import copy
import json
import re
import secrets
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import formatdate

from .harness import CONTROL_PATH, Clock, GatewaySimulator, Response, route

# The demo provider is configured with exactly these; no real Unicomer credential is used.
SANDBOX_USERNAME = "recaudador.demo"
SANDBOX_PASSWORD = "demo-password-for-the-local-simulator-only"
SANDBOX_IDCOMMERCE = "DEMO01"
SANDBOX_COMMERCE_NAME = "ENTIDAD DEMO"

SYNC_DELAY = 180  # seconds from registration until "Registrado" (0) becomes "Sincronizado" (1)
TOKEN_LIFETIME = 1209599  # the spec's expires_in: 14 days minus one second
FIRST_IDTRX = 3455  # the spec's sample idtrx

TOKEN_PATH = "/token"
API_PATH = "/api/recaudadores/"
ROUTE_NAMES = ("estadocuenta", "registrarpago", "reversapago", "consultarpago", "conciliacion")
FORM_PATHS = frozenset({"reversapago", "consultarpago", "conciliacion"})  # header says form
CONCILIATION_DATE_FORMATS = ("iso", "dmy", "both")

STATE_NAMES = {
    -1: "No existe",
    0: "Registrado",
    1: "Sincronizado",
    2: "Zoombie",
    4: "Reversado",
    99: "Problemas para sincronizar",
}
CONCILIATION_FILTERS = (0, 1, 2, 4)  # 0 = every state
UNPAID_STATES = (2, 4)  # zombie ("no está registrado") and reversed do not lower the debt

# Error envelopes: (status, msg). Statuses are strings, as in the spec's samples.
E_NO_CLIENT = ("451", "Cliente no existe")
E_BAD_FECHA = ("451", "fecha invalida")
E_DUPLICATE = ("452", "num_recibo duplicado")
E_NO_CREDIT = ("453", "Credito no existe")
E_BAD_AMOUNT = ("454", "val_pagado invalido")
E_OVER_DEBT = ("455", "val_pagado supera la deuda total")
E_BAD_DATE = ("456", "fch_proceso invalida")
E_MISSING = ("457", "Campo requerido")
E_BAD_COMMERCE = ("458", "idcommerce no valido")
E_BAD_ESTADO = ("459", "estado invalido")
E_TOO_LONG = ("460", "num_recibo demasiado largo")
CONSULT_ERROR = "133"  # consultarpago's "error general"
REVERSAL_REFUSED_MSG = "No es posible revertir el pago"

DENIED = {"Message": "Authorization has been denied for this request."}
ECUADOR = timezone(timedelta(hours=-5), "ECT")  # no daylight saving
CENT = Decimal("0.01")
JSON_TYPE = "application/json; charset=utf-8"

# fullmatch: `fch_proceso` as the spec writes it, with or without milliseconds.
_FCH_PROCESO = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.\d{1,3})?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DMY_DATE = re.compile(r"\d{2}-\d{2}-\d{4}")
_REGISTER_FIELDS = (
    "secuencial",
    "idcommerce",
    "fch_proceso",
    "val_pagado",
    "localidad_recauda",
    "nombre_cajero",
    "num_recibo",
)
_KEY_FIELDS = ("secuencial", "idcommerce", "fch_proceso", "val_pagado")
_BALANCE_FIELDS = ("valor_pagar", "monto_vencido", "deuda_tot_sinpro", "deuda_tot_conpro")
_ALTERABLE = (
    "secuencial",
    "idcommerce",
    "fch_proceso",
    "val_pagado",
    "localidad_recauda",
    "nombre_cajero",
    "num_recibo",
    "registered_at",
)


def _d(text):
    return Decimal(text)


def _factura(**fields):
    """A `facturas[]` entry with the spec's field set and order; money as Decimal."""
    return {
        "id": fields["id"],
        "factura": fields["factura"],
        "operacion": fields["operacion"],
        "cliente": fields["cliente"],
        "credito_fch": fields["credito_fch"],
        "credito_valor": _d(fields["credito_valor"]),
        "item_cant": _d("1.00"),
        "item_desc": fields["item_desc"],
        "factura_full": fields["factura_full"],
        "credito_cuota": _d(fields["credito_cuota"]),
        "credito_plazo": fields["credito_plazo"],
        "prox_fecvto": fields["prox_fecvto"],
        "dias_mora": fields["dias_mora"],
        "cuotas_pagadas": fields["cuotas_pagadas"],
        "cuotas_pendientes": fields["cuotas_pendientes"],
        "cuotas_vencidas": fields["cuotas_vencidas"],
        "monto_vencido": _d(fields["monto_vencido"]),
        "recargo_gasto": _d(fields["recargo_gasto"]),
        "interes_mora": _d(fields["interes_mora"]),
        "valor_pagar": _d(fields["valor_pagar"]),
        "deuda_tot_sinpro": _d(fields["deuda_tot_sinpro"]),
        "deuda_tot_conpro": _d(fields["deuda_tot_conpro"]),
        "tiene_inicial": "N",
        "tiene_mora": "S" if fields["dias_mora"] else "N",
        "porc_comision": _d(fields.get("porc_comision", "0.00")),
        "cadena": fields.get("cadena", "ARTEFACTA"),
    }


def _client(cedruc, nombres, apellidos, direccion, ciudad, tipo_doc, sexo, email):
    return {
        "tipo_campana": 1,
        "cl_cedruc": cedruc,
        "cl_nombres": nombres,
        "cl_apellidos": apellidos,
        "cl_direcc1": direccion,
        "cl_direcc2": f" {direccion} ",
        "ciudadcliente": ciudad,
        "tipo_doc": tipo_doc,
        "sexo": sexo,
        "cl_email": email,
    }


# The spec's customer and credits verbatim, plus three made-up accounts. Every
# identification passes Ecuador's check digits (stdnum.ec.ci / stdnum.ec.ruc).
DEMO_ACCOUNTS = {
    "0101690808": {
        "datosCliente": _client(
            "0101690808",
            "LUIS ALBERTO",
            "DELEG",
            "STA ANA SAN ANTONIO DE LOS LAURELES",
            "CUENCA",
            "CEDULA ",
            "Masculino",
            "luisdeleg@gmail.com",
        ),
        "facturas": [
            _factura(
                id=228085,
                factura=4107,
                operacion=57266.0,
                cliente="0101690808",
                credito_fch="2021-03-08 00:00:00",
                credito_valor="831.60",
                item_desc="REFRIGERADORA RI 395 QZ C/DN CROMA INDURAMA",
                factura_full="008-043-00004107",
                credito_cuota="69.30",
                credito_plazo=12,
                prox_fecvto="2021-08-09",
                dias_mora=175,
                cuotas_pagadas=4,
                cuotas_pendientes=8,
                cuotas_vencidas=6,
                monto_vencido="350.35",
                recargo_gasto="72.00",
                interes_mora="15.59",
                valor_pagar="352.70",
                deuda_tot_sinpro="491.30",
                deuda_tot_conpro="491.30",
            ),
            _factura(
                id=228086,
                factura=4109,
                operacion=57268.0,
                cliente="0101690808",
                credito_fch="2021-03-08 00:00:00",
                credito_valor="1439.10",
                item_desc="TV LED L43P615 UHD TCL",
                factura_full="008-043-00004109",
                credito_cuota="79.95",
                credito_plazo=18,
                prox_fecvto="2021-08-09",
                dias_mora=175,
                cuotas_pagadas=4,
                cuotas_pendientes=14,
                cuotas_vencidas=6,
                monto_vencido="479.70",
                recargo_gasto="72.00",
                interes_mora="19.46",
                valor_pagar="479.70",
                deuda_tot_sinpro="1119.30",
                deuda_tot_conpro="1119.30",
            ),
        ],
        "telefonos": [{"telefono": "0967761447"}],
    },
    "1712345675": {
        "datosCliente": _client(
            "1712345675",
            "MARIA JOSE",
            "PAREDES VILLACIS",
            "AV 10 DE AGOSTO N24-15 Y LUIS CORDERO",
            "QUITO",
            "CEDULA ",
            "Femenino",
            "mjparedes@example.com",
        ),
        "facturas": [
            _factura(
                id=228301,
                factura=5120,
                operacion=61034.0,
                cliente="1712345675",
                credito_fch="2021-06-15 00:00:00",
                credito_valor="599.00",
                item_desc="LAVADORA 17KG LG WT17DSBP",
                factura_full="011-002-00005120",
                credito_cuota="54.45",
                credito_plazo=12,
                prox_fecvto="2021-09-15",
                dias_mora=35,
                cuotas_pagadas=2,
                cuotas_pendientes=10,
                cuotas_vencidas=2,
                monto_vencido="108.90",
                recargo_gasto="8.00",
                interes_mora="2.35",
                valor_pagar="108.90",
                deuda_tot_sinpro="435.60",
                deuda_tot_conpro="453.20",
                porc_comision="2.50",
                cadena="BARATODO",
            )
        ],
        "telefonos": [{"telefono": "0987654321"}, {"telefono": "022556677"}],
    },
    "0912345675": {
        "datosCliente": _client(
            "0912345675",
            "CARLOS ANDRES",
            "MOREIRA ZAMBRANO",
            "CDLA KENNEDY NORTE MZ 104 V 12",
            "GUAYAQUIL",
            "CEDULA ",
            "Masculino",
            "cmoreira@example.com",
        ),
        "facturas": [],
        "telefonos": [{"telefono": "0991122334"}],
    },
    "1790011674001": {
        "datosCliente": _client(
            "1790011674001",
            "COMERCIAL ANDINA",
            "CIA LTDA",
            "AV AMAZONAS N35-17 Y JUAN PABLO SANZ",
            "QUITO",
            "RUC ",
            "",
            "pagos@comercialandina.example.com",
        ),
        "facturas": [
            _factura(
                id=228410,
                factura=7301,
                operacion=63120.0,
                cliente="1790011674001",
                credito_fch="2021-07-01 00:00:00",
                credito_valor="2450.00",
                item_desc="CONGELADOR HORIZONTAL 400L INDURAMA",
                factura_full="002-001-00007301",
                credito_cuota="214.20",
                credito_plazo=12,
                prox_fecvto="2021-10-01",
                dias_mora=0,
                cuotas_pagadas=3,
                cuotas_pendientes=9,
                cuotas_vencidas=0,
                monto_vencido="0.00",
                recargo_gasto="0.00",
                interes_mora="0.00",
                valor_pagar="214.20",
                deuda_tot_sinpro="1927.80",
                deuda_tot_conpro="1927.80",
            )
        ],
        "telefonos": [{"telefono": "022998877"}],
    },
}
DEMO_CUSTOMERS = {
    cedruc: f"{account['datosCliente']['cl_nombres']} {account['datosCliente']['cl_apellidos']}"
    for cedruc, account in DEMO_ACCOUNTS.items()
}


# --- JSON with exact money ---


def render_json(value):
    """JSON text where a Decimal is a number with exactly two decimals (no float on the way)."""
    if isinstance(value, Decimal):
        return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
    if isinstance(value, dict):
        items = (f"{json.dumps(str(key))}: {render_json(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_json(item) for item in value) + "]"
    return json.dumps(value)


def _json_response(payload, status=200):
    return Response(status, render_json(payload).encode("utf-8"), {"Content-Type": JSON_TYPE})


# --- field parsing: JSON values (floats parsed as Decimal) or form strings ---


def _as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
    return None


def _as_money(value):
    """A finite Decimal with at most two decimals, or None."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        return None
    return amount


def _as_fch_proceso(value):
    """The datetime (second precision, Ecuador local time) of a `fch_proceso`, or None."""
    match = _FCH_PROCESO.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _ecuador_time(timestamp):
    return datetime.fromtimestamp(timestamp, ECUADOR).replace(tzinfo=None)


def _text(value):
    return value.strip() if isinstance(value, str) else ""


class UnicomerSimulator(GatewaySimulator):
    name = "unicomer"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reset()

    def reset(self):
        """Fresh demo data, no tokens nor payments, default settings, faults, log and clock."""
        with self.state_lock:
            self.users = {SANDBOX_USERNAME: SANDBOX_PASSWORD}
            self.commerces = {SANDBOX_IDCOMMERCE: SANDBOX_COMMERCE_NAME}
            self.accounts = copy.deepcopy(DEMO_ACCOUNTS)
            self.tokens = {}  # access_token -> expiry (simulator clock)
            self.logins = 0  # successful password grants
            self._payments = {}  # idtrx -> payment record
            self._next_idtrx = FIRST_IDTRX
            # settings
            self.token_lifetime = TOKEN_LIFETIME
            self.sync_delay = SYNC_DELAY
            self.quirky_json = True  # error envelopes with the spec's trailing comma
            self.reversal_error_code = "-1"  # any other code is sent like the other errors
            self.json_only_paths = set()  # route names (ROUTE_NAMES) answering 415 to a form body
            self.form_only_paths = set()  # route names answering 415 to a JSON body
            self.conciliation_date_format = "both"  # one of CONCILIATION_DATE_FORMATS
            self.max_num_recibo_length = None  # unknown limit [open]; None = any length
            self.clock = Clock()
        self.clear_faults()
        self.reset_log()

    # --- envelopes ---

    def _ok(self, data, status=0, msg="OK"):
        return _json_response({"status": status, "msg": msg, "data": data})

    def _fail(self, error, detail=None):
        """An error envelope on HTTP 200; with `quirky_json`, the spec's trailing comma."""
        code, msg = error
        if detail:
            msg = f"{msg}: {detail}"
        if self.quirky_json:
            text = f'{{ "status": {json.dumps(code)}, "msg": {json.dumps(msg)}, }}'
            return Response(200, text.encode("utf-8"), {"Content-Type": JSON_TYPE})
        return _json_response({"status": code, "msg": msg, "data": None})

    def _known_commerce(self, idcommerce):
        return isinstance(idcommerce, str) and idcommerce in self.commerces

    # --- token ---

    @route("POST", r"(?i)" + TOKEN_PATH)
    def token(self, request):
        if _media_type(request) != "application/x-www-form-urlencoded":
            return self._grant_error("invalid_request", "The request body must be a form.")
        form = request.form()
        if form.get("grant_type") != "password":
            return self._grant_error("unsupported_grant_type", None)
        username, password = form.get("username", ""), form.get("password", "")
        with self.state_lock:
            known = self.users.get(username)
            if known is None or not secrets.compare_digest(known, password):
                return self._grant_error("invalid_grant", "The user name or password is incorrect.")
            now = self.clock.now()
            access_token = secrets.token_urlsafe(96)
            self.tokens[access_token] = now + self.token_lifetime
            self.logins += 1
            lifetime = self.token_lifetime
        return _json_response(
            {
                "access_token": access_token,
                "token_type": "bearer",
                "expires_in": lifetime,
                "userName": username,
                ".issued": formatdate(now, usegmt=True),
                ".expires": formatdate(now + lifetime, usegmt=True),
            }
        )

    def _grant_error(self, error, description):
        body = {"error": error}
        if description:
            body["error_description"] = description
        return _json_response(body, status=400)

    def expire_tokens(self):
        """Make every token issued so far expired; return how many there were."""
        with self.state_lock:
            past = self.clock.now() - 1
            for token in self.tokens:
                self.tokens[token] = past
            return len(self.tokens)

    # --- what every /api/recaudadores/* route does first ---

    def _api_payload(self, request, name):
        """(payload dict, None), or (None, the Response refusing the request)."""
        authorization = request.header("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        with self.state_lock:
            expiry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            valid = expiry is not None and self.clock.now() < expiry
        if not valid:
            return None, Response(
                401,
                render_json(DENIED).encode("utf-8"),
                {"Content-Type": JSON_TYPE, "WWW-Authenticate": "Bearer"},
            )
        media_type = _media_type(request)
        is_form = media_type == "application/x-www-form-urlencoded"
        accepts_form = (name in FORM_PATHS or name in self.form_only_paths) and (
            name not in self.json_only_paths
        )
        accepts_json = name not in self.form_only_paths
        if (is_form and not accepts_form) or (not is_form and not accepts_json):
            return None, self._unsupported(media_type)
        if not is_form and media_type not in ("application/json", "text/json", ""):
            return None, self._unsupported(media_type)
        if is_form:
            return request.form(), None
        try:
            payload = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except ValueError:  # also UnicodeDecodeError
            payload = None
        if not isinstance(payload, dict):
            generic = (CONSULT_ERROR, "Solicitud invalida") if name == "consultarpago" else None
            return None, self._fail(generic or E_MISSING, "cuerpo JSON invalido")
        return payload, None

    def _unsupported(self, media_type):
        message = (
            f"The request entity's media type '{media_type or 'none'}' "
            "is not supported for this resource."
        )
        return _json_response({"Message": message}, status=415)

    # --- estado de cuenta ---

    @route("POST", r"(?i)" + API_PATH + r"estadocuenta")
    def estadocuenta(self, request):
        payload, refusal = self._api_payload(request, "estadocuenta")
        if refusal:
            return refusal
        if not self._known_commerce(payload.get("idcommerce")):
            return self._fail(E_BAD_COMMERCE)
        cliente = _text(payload.get("cliente"))
        if not cliente:
            return self._fail(E_MISSING, "cliente")
        with self.state_lock:
            statement = self.statement(cliente)
        if statement is None:
            return self._fail(E_NO_CLIENT)
        return self._ok({"estado_cuenta": statement})

    def statement(self, cliente):
        """The `estado_cuenta` of a customer with balances net of payments, or None."""
        with self.state_lock:
            account = self.accounts.get(cliente)
            if account is None:
                return None
            statement = copy.deepcopy(account)
            for credit in statement["facturas"]:
                paid = self._paid(credit["id"])
                for field in _BALANCE_FIELDS:
                    credit[field] = max(credit[field] - paid, Decimal("0.00"))
            return statement

    def _credit(self, credit_id):  # called under state_lock
        for account in self.accounts.values():
            for credit in account["facturas"]:
                if credit["id"] == credit_id:
                    return credit
        return None

    def _paid(self, credit_id):  # called under state_lock
        return sum(
            (
                payment["val_pagado"]
                for payment in self._payments.values()
                if payment["secuencial"] == credit_id and self._state(payment) not in UNPAID_STATES
            ),
            Decimal("0.00"),
        )

    # --- registrar pago ---

    @route("POST", r"(?i)" + API_PATH + r"registrar(?:%20| )?pago")
    def registrarpago(self, request):
        payload, refusal = self._api_payload(request, "registrarpago")
        if refusal:
            return refusal
        missing = [name for name in _REGISTER_FIELDS if payload.get(name) in (None, "")]
        if missing:
            return self._fail(E_MISSING, ", ".join(missing))
        idcommerce = payload["idcommerce"]
        if not self._known_commerce(idcommerce):
            return self._fail(E_BAD_COMMERCE)
        secuencial = _as_int(payload["secuencial"])
        amount = _as_money(payload["val_pagado"])
        fch_proceso = payload["fch_proceso"]
        texts = {
            name: _text(payload[name])
            for name in ("localidad_recauda", "nombre_cajero", "num_recibo")
        }
        if not all(texts.values()):
            return self._fail(E_MISSING, ", ".join(name for name, v in texts.items() if not v))
        limit = self.max_num_recibo_length
        if limit is not None and len(texts["num_recibo"]) > limit:
            return self._fail(E_TOO_LONG)
        if amount is None or amount <= 0:
            return self._fail(E_BAD_AMOUNT)
        if _as_fch_proceso(fch_proceso) is None:
            return self._fail(E_BAD_DATE)
        with self.state_lock:
            credit = self._credit(secuencial) if secuencial is not None else None
            if credit is None:
                return self._fail(E_NO_CREDIT)
            if self._find_receipt(idcommerce, texts["num_recibo"]) is not None:
                return self._fail(E_DUPLICATE)
            if amount > max(credit["deuda_tot_conpro"] - self._paid(secuencial), 0):
                return self._fail(E_OVER_DEBT)
            payment = self._store(
                secuencial=secuencial,
                idcommerce=idcommerce,
                fch_proceso=fch_proceso,
                val_pagado=amount.quantize(CENT),
                **texts,
            )
        return self._ok({"idtrx": payment["idtrx"]})

    def _store(self, **fields):  # called under state_lock
        payment = {
            "idtrx": self._next_idtrx,
            **fields,
            "registered_at": fields.get("registered_at") or self.clock.now(),
            "override": fields.get("override"),
            "foreign": fields.get("foreign", False),
        }
        self._next_idtrx += 1
        self._payments[payment["idtrx"]] = payment
        return payment

    def _find_receipt(self, idcommerce, num_recibo):  # called under state_lock
        for payment in self._payments.values():
            if payment["idcommerce"] == idcommerce and payment["num_recibo"] == num_recibo:
                return payment
        return None

    def _state(self, payment):  # called under state_lock
        if payment["override"] is not None:
            return payment["override"]
        age = self.clock.now() - payment["registered_at"]
        return 0 if age < self.sync_delay else 1

    # --- reversa pago ---

    @route("POST", r"(?i)" + API_PATH + r"reversapago")
    def reversapago(self, request):
        payload, refusal = self._api_payload(request, "reversapago")
        if refusal:
            return refusal
        missing = [name for name in _KEY_FIELDS if payload.get(name) in (None, "")]
        if missing:
            return self._fail(E_MISSING, ", ".join(missing))
        if not self._known_commerce(payload["idcommerce"]):
            return self._fail(E_BAD_COMMERCE)
        with self.state_lock:
            payment = self._payments.get(_as_int(payload["secuencial"]))
            if (
                payment is None
                or not self._key_matches(payment, payload)
                or self._state(payment) != 0
            ):
                return self._reversal_refused()
            payment["override"] = 4
            num_recibo = payment["num_recibo"]
        return self._ok({"num_recibo": num_recibo}, status="0")

    def _reversal_refused(self):
        if self.reversal_error_code == "-1":  # the documented answer, valid JSON
            return _json_response({"status": "-1", "msg": REVERSAL_REFUSED_MSG})
        return self._fail((self.reversal_error_code, REVERSAL_REFUSED_MSG))

    def _key_matches(self, payment, payload):
        """Same idcommerce, fch_proceso to the second and val_pagado to the cent."""
        sent_at = _as_fch_proceso(payload.get("fch_proceso"))
        amount = _as_money(payload.get("val_pagado"))
        return (
            payment["idcommerce"] == payload.get("idcommerce")
            and sent_at is not None
            and sent_at == _as_fch_proceso(payment["fch_proceso"])
            and amount is not None
            and amount.quantize(CENT) == payment["val_pagado"].quantize(CENT)
        )

    # --- consultar pago ---

    @route("POST", r"(?i)" + API_PATH + r"consultarpago")
    def consultarpago(self, request):
        payload, refusal = self._api_payload(request, "consultarpago")
        if refusal:
            return refusal
        missing = [name for name in _KEY_FIELDS if payload.get(name) in (None, "")]
        if missing:
            return self._fail((CONSULT_ERROR, "Campo requerido"), ", ".join(missing))
        if not self._known_commerce(payload["idcommerce"]):
            return self._fail((CONSULT_ERROR, "idcommerce no valido"))
        secuencial = _as_int(payload["secuencial"])
        if secuencial is None or _as_fch_proceso(payload["fch_proceso"]) is None:
            return self._fail((CONSULT_ERROR, "Parametros invalidos"))
        with self.state_lock:
            payment = self._consulted(secuencial, payload)
            if payment is None:
                data = {"idtrx": 0, "cod_status": -1, "det_status": STATE_NAMES[-1]}
                data["num_recibo"] = ""
            else:
                state = self._state(payment)
                data = {
                    "idtrx": payment["idtrx"],
                    "cod_status": state,
                    "det_status": STATE_NAMES.get(state, "Desconocido"),
                    "num_recibo": payment["num_recibo"],
                }
        return self._ok(data, msg="ok")

    def _consulted(self, secuencial, payload):  # called under state_lock
        """By idtrx first (the spec's text), else by credit id (the spec's example)."""
        payment = self._payments.get(secuencial)
        if payment is not None and self._key_matches(payment, payload):
            return payment
        by_credit = [
            payment
            for payment in self._payments.values()
            if payment["secuencial"] == secuencial and self._key_matches(payment, payload)
        ]
        return max(by_credit, key=lambda payment: payment["idtrx"], default=None)

    # --- conciliación ---

    @route("POST", r"(?i)" + API_PATH + r"conciliacion")
    def conciliacion(self, request):
        payload, refusal = self._api_payload(request, "conciliacion")
        if refusal:
            return refusal
        idcommerce = payload.get("idcommerce")
        if not self._known_commerce(idcommerce):
            return self._fail(E_BAD_COMMERCE)
        day = self._conciliation_date(payload.get("fecha"))
        if day is None:
            return self._fail(E_BAD_FECHA)
        estado = _as_int(payload.get("estado", 0))
        if estado not in CONCILIATION_FILTERS:
            return self._fail(E_BAD_ESTADO)
        with self.state_lock:
            rows = []
            for payment in sorted(self._payments.values(), key=lambda p: p["idtrx"]):
                sent_at = _as_fch_proceso(payment["fch_proceso"])
                state = self._state(payment)
                if payment["idcommerce"] != idcommerce or sent_at.date() != day:
                    continue
                if estado and state != estado:
                    continue
                registered = _ecuador_time(payment["registered_at"])
                rows.append(
                    {
                        "comercio": self.commerces[idcommerce],
                        "secuencial": payment["secuencial"],
                        "idtrx": payment["idtrx"],
                        "fch_proceso": sent_at.strftime("%Y-%m-%d %H:%M:%S"),
                        "fch_registro": registered.strftime("%Y-%m-%d %H:%M:%S"),
                        "val_pagado": payment["val_pagado"],
                        "num_recibo": payment["num_recibo"],
                        "estado": state,
                        "estado_desc": STATE_NAMES.get(state, "Desconocido"),
                    }
                )
        return self._ok(rows, msg="ok")

    def _conciliation_date(self, fecha):
        if not isinstance(fecha, str):
            return None
        mode = self.conciliation_date_format
        formats = []
        if mode in ("iso", "both") and _ISO_DATE.fullmatch(fecha):
            formats.append("%Y-%m-%d")
        if mode in ("dmy", "both") and _DMY_DATE.fullmatch(fecha):
            formats.append("%d-%m-%Y")
        for pattern in formats:
            try:
                return datetime.strptime(fecha, pattern).date()
            except ValueError:
                return None
        return None

    # --- for tests and the demo ---

    @property
    def payments(self):
        """Snapshots of every payment, oldest first, with its current `state`."""
        with self.state_lock:
            return [
                self._snapshot(payment)
                for payment in sorted(self._payments.values(), key=lambda p: p["idtrx"])
            ]

    def payment(self, num_recibo, idcommerce=SANDBOX_IDCOMMERCE):
        with self.state_lock:
            found = self._find_receipt(idcommerce, num_recibo)
            return self._snapshot(found) if found else None

    def _snapshot(self, payment):  # called under state_lock
        snapshot = {key: value for key, value in payment.items() if key != "override"}
        snapshot["state"] = self._state(payment)
        return snapshot

    def force_state(self, num_recibo, state, idcommerce=SANDBOX_IDCOMMERCE):
        """Pin a payment's state (2 zombie, 99 sync problem, ...); None lets time decide again."""
        with self.state_lock:
            payment = self._find_receipt(idcommerce, num_recibo)
            if payment is None:
                raise KeyError(num_recibo)
            payment["override"] = None if state is None else int(state)
            return self._snapshot(payment)

    def alter_payment(self, num_recibo, idcommerce=SANDBOX_IDCOMMERCE, **fields):
        """Change what Unicomer has on file (e.g. `val_pagado`), to make conciliation differ."""
        unknown = set(fields) - set(_ALTERABLE)
        if unknown:
            raise TypeError(f"cannot alter {sorted(unknown)}; alterable: {_ALTERABLE}")
        if "val_pagado" in fields:
            fields["val_pagado"] = Decimal(str(fields["val_pagado"]))
        if "fch_proceso" in fields and _as_fch_proceso(fields["fch_proceso"]) is None:
            raise ValueError("fch_proceso must be YYYY-MM-DD HH:MM:SS[.fff]")
        with self.state_lock:
            payment = self._find_receipt(idcommerce, num_recibo)
            if payment is None:
                raise KeyError(num_recibo)
            payment.update(fields)
            return self._snapshot(payment)

    def add_foreign_payment(
        self,
        secuencial,
        val_pagado,
        num_recibo=None,
        fch_proceso=None,
        state=None,
        idcommerce=SANDBOX_IDCOMMERCE,
        localidad_recauda="AGENCIA EXTERNA",
        nombre_cajero="CAJERO EXTERNO",
    ):
        """A payment Odoo never sent (for "unknown to Odoo" reconciliation cases)."""
        with self.state_lock:
            now = self.clock.now()
            if fch_proceso is None:
                fch_proceso = _ecuador_time(now).strftime("%Y-%m-%d %H:%M:%S.000")
            if _as_fch_proceso(fch_proceso) is None:
                raise ValueError("fch_proceso must be YYYY-MM-DD HH:MM:SS[.fff]")
            payment = self._store(
                secuencial=int(secuencial),
                idcommerce=idcommerce,
                fch_proceso=fch_proceso,
                val_pagado=Decimal(str(val_pagado)).quantize(CENT),
                localidad_recauda=localidad_recauda,
                nombre_cajero=nombre_cajero,
                num_recibo=num_recibo or f"EXT-{self._next_idtrx}",
                registered_at=now,
                override=state,
                foreign=True,
            )
            return self._snapshot(payment)

    def _control(self, request):
        """Adds `expire_tokens`, `force_state` and a payments listing to the harness's controls."""
        if request.method == "POST" and request.path == f"{CONTROL_PATH}/expire_tokens":
            return _json_response({"ok": True, "expired": self.expire_tokens()})
        if request.method == "POST" and request.path == f"{CONTROL_PATH}/force_state":
            try:
                options = request.json()
                num_recibo, state = options["num_recibo"], options["state"]
            except (KeyError, TypeError, ValueError):
                return _json_response({"error": "expected {num_recibo, state}"}, status=400)
            try:
                payment = self.force_state(num_recibo, state)
            except KeyError:
                return _json_response({"error": f"unknown num_recibo {num_recibo}"}, status=404)
            except (TypeError, ValueError) as error:
                return _json_response({"error": str(error)}, status=400)
            return _json_response({"ok": True, "payment": payment})
        if request.method == "GET" and request.path == f"{CONTROL_PATH}/payments":
            return _json_response(self.payments)
        return super()._control(request)


def _media_type(request):
    return (request.header("Content-Type") or "").split(";")[0].strip().lower()
