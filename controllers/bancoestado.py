import logging
import re
import time

from psycopg2 import errors as pg_errors

from odoo import http
from odoo.http import request

from ..gateways import cajavecina_const as const
from ..gateways import cajavecina_soap as soap
from ..gateways import caller_access
from ..models.cajavecina_service import CajaVecinaRefusal

_logger = logging.getLogger(__name__)

ROUTES = [
    "/bancoestado/web/",
    "/bancoestado/web/index.php",
    "/bancoestado/<string:secret>/web/",
    "/bancoestado/<string:secret>/web/index.php",
]
_SOAP12_ACTION = re.compile(r'action="?([^";]+)"?')
_CONCURRENCY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
)


class BancoEstadoController(http.Controller):
    """The SOAP webservice BancoEstado calls for Caja Vecina cash payments.

    Business errors are answered in the spec's RESPUESTA/ERRORES block with
    HTTP 200; requests that are not a call of this service get a SOAP Fault.
    Every exchange is kept in `payment.cajavecina.exchange`.
    """

    @http.route(
        ROUTES,
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,  # the bank's server posts here
        save_session=False,
        # A hard cap read by werkzeug (HTTP 413); up to it, an oversized call gets a Fault.
        max_content_length=const.HARD_MAX_REQUEST_BYTES,
    )
    def bancoestado_webservice(self, secret=None, **_params):
        started = time.monotonic()
        provider = self._provider(secret)
        if not provider:
            return request.make_response("Not Found", status=404)
        httprequest = request.httprequest
        log = {"provider_id": provider.id, "started": started}
        address = caller_access.client_address(
            httprequest.remote_addr,
            httprequest.headers.get("X-Forwarded-For"),
            provider.cajavecina_trusted_proxies,
        )
        log["source_ip"] = str(address or httprequest.remote_addr or "")
        if not provider._cajavecina_caller_checked():
            return self._deny(log, 403, "webservice not configured: no allowed caller")
        if not caller_access.address_allowed(address, provider.cajavecina_allowed_ips):
            return self._deny(log, 403, "address not allowed")
        if provider.cajavecina_basic_auth_user and not caller_access.basic_auth_matches(
            httprequest.headers.get("Authorization"),
            provider.cajavecina_basic_auth_user,
            provider.cajavecina_basic_auth_password,
        ):
            return self._deny(log, 401, "authentication required")
        if httprequest.method == "GET":
            if {"wsdl", "wdsll", "WSDL"} & set(httprequest.args):
                location = provider.get_base_url().rstrip("/") + httprequest.path
                return request.make_response(
                    soap.wsdl(location), headers=[("Content-Type", "text/xml; charset=utf-8")]
                )
            return request.make_response(
                "BancoEstado Caja Vecina webservice. WSDL: ?wsdl",
                headers=[("Content-Type", "text/plain; charset=utf-8")],
            )
        return self._soap_call(provider, log)

    # === helpers === #

    @staticmethod
    def _provider(secret):
        domain = [("code", "=", "cajavecina"), ("state", "!=", "disabled")]
        domain.append(("cajavecina_path_secret", "=", secret or False))
        return request.env["payment.provider"].sudo().search(domain, limit=1)

    def _soap_call(self, provider, log):
        httprequest = request.httprequest
        length = httprequest.content_length
        if length is not None and length > const.MAX_REQUEST_BYTES:
            return self._fault(log, soap.SoapRequestError("request too large"), b"")
        body = httprequest.get_data()  # cached: Odoo replays it after a serialization conflict
        action = httprequest.headers.get("SOAPAction")
        if not action:
            found = _SOAP12_ACTION.search(httprequest.headers.get("Content-Type") or "")
            action = found.group(1) if found else None
        try:
            call = soap.parse_request(body, action)
        except soap.SoapRequestError as error:
            return self._fault(log, error, body)
        log.update(operation=call.operation, request_body=body)
        try:
            missing = [
                part for part in const.REQUIRED_PARTS[call.operation] if not call.parts[part]
            ]
            too_long = [
                part
                for part, value in call.parts.items()
                if value and len(value) > const.PART_MAX_LENGTH[part]
            ]
            if missing or too_long:
                raise CajaVecinaRefusal(
                    const.SERVICE_PROBLEM,
                    f"Falta el campo {missing[0]}."
                    if missing
                    else f"El campo {too_long[0]} es demasiado largo.",
                )
            with request.env.cr.savepoint():
                answer, info = provider._cajavecina_handle(call)
            log.update(result="ok", result_code="0")
        except CajaVecinaRefusal as refusal:
            answer, info = soap.error_answer(refusal.code, refusal.description), {}
            log.update(result="refused", result_code=str(refusal.code))
            log["description"] = refusal.description
        except _CONCURRENCY_ERRORS:
            raise  # Odoo retries the whole request on a fresh snapshot
        except Exception:
            _logger.exception("Caja Vecina: %s failed", call.operation)
            answer, info = soap.error_answer(const.SERVICE_PROBLEM, "Problema con el servicio."), {}
            log.update(result="refused", result_code=str(const.SERVICE_PROBLEM))
        log.update(_parts_for_log(call.parts), **_info_for_log(info))
        envelope = soap.response_envelope(
            call.operation, answer, provider.cajavecina_response_mode, call.soap_version
        )
        self._record(log, envelope)
        return request.make_response(
            envelope, headers=[("Content-Type", soap.content_type(call.soap_version))]
        )

    def _fault(self, log, error, body):
        _logger.warning("Caja Vecina: SOAP request refused: %s", error.reason)
        envelope = soap.fault_envelope(error.reason, error.soap_version)
        log.update(result="fault", description=error.reason, request_body=body)
        self._record(log, envelope)
        return request.make_response(
            envelope,
            status=400 if error.soap_version == "1.2" else 500,
            headers=[("Content-Type", soap.content_type(error.soap_version))],
        )

    def _deny(self, log, status, reason):
        _logger.warning("Caja Vecina: call from %s refused: %s", log["source_ip"], reason)
        log.update(result="denied", description=reason)
        self._record(log, b"")
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if status == 401:
            headers.append(("WWW-Authenticate", 'Basic realm="bancoestado"'))
        return request.make_response(reason, status=status, headers=headers)

    @staticmethod
    def _record(log, response_body):
        values = dict(log)
        started = values.pop("started")
        values["duration_ms"] = int((time.monotonic() - started) * 1000)
        values["request_body"] = _text(values.get("request_body", b""))
        values["response_body"] = _text(response_body)
        request.env["payment.cajavecina.exchange"].sudo().create(values)


def _text(raw):
    # PostgreSQL text cannot hold NUL (a UTF-16 body has plenty): the log keeps the rest.
    text = (raw or b"").decode("utf-8", "replace").replace("\x00", "")
    return text[: const.MAX_REQUEST_BYTES]


def _parts_for_log(parts):
    return {
        "rut": (parts.get("rutCliente") or "")[:20],
        "document": (parts.get("factura") or "")[:20],
        "bank_transaction": (parts.get("transaccion") or "")[:20],
    }


def _info_for_log(info):
    values = {}
    if info.get("rut"):
        values["rut"] = info["rut"]
    if info.get("amount"):
        values["amount"] = info["amount"]
    if info.get("document"):
        values["document"] = info["document"]  # for a consult: the document offered
    if info.get("transaction"):
        values["transaction_id"] = info["transaction"].id
    return values
