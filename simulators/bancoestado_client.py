"""BancoEstado's SOAP client for Caja Vecina, played on our side of the wire.

In Caja Vecina collection the bank is the caller: it asks the merchant's
webservice what a customer owes (`consultarCliente`) and then pays it
(`registrarPago`). The real client was configured against Mikrowisp's NuSOAP
service, whose exact envelope nobody published, so this stand-in can speak
several dialects (`STYLES`) and SOAP 1.1 or 1.2: the merchant's endpoint must
accept them all. It reads answers in both of NuSOAP's shapes, the `RESPUESTA`
document escaped inside `<return>` or inline, whatever the prefixes.

It keeps its own XML code and imports nothing from Odoo nor from the addon:
it stands for the bank, so it must not share the merchant's assumptions.

For a person playing the bank in the demo:

    python -m simulators.bancoestado_client consultar 76086428-5
    python -m simulators.bancoestado_client pagar 76086428-5 00000042 15990 --transaccion 594012
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import requests

OPERATIONS = ("consultarCliente", "registrarPago")
STYLES = ("rpc", "document", "bare")
DEFAULT_URL = "http://localhost:8069/bancoestado/web/"

SOAP_NS = {
    "1.1": "http://schemas.xmlsoap.org/soap/envelope/",
    "1.2": "http://www.w3.org/2003/05/soap-envelope",
}
ENCODING_NS = {
    "1.1": "http://schemas.xmlsoap.org/soap/encoding/",
    "1.2": "http://www.w3.org/2003/05/soap-encoding",
}
XSD_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

# An XML name without a colon: operation and part names go into tags verbatim.
_NCNAME = re.compile(r"^[A-Za-z_][\w.-]*$")


# --- requests the bank sends ---


def build_envelope(operation, parts, style="rpc", soap_version="1.1", namespace="ws/"):
    """Return the request body for `operation` with `parts` ({name: value}) as bytes.

    Any well-formed operation name is accepted, not only `OPERATIONS`, so that
    tests can also call an operation the service does not have.
    """
    _check_name(operation)
    _check_soap_version(soap_version)
    fields = {name: str(value) for name, value in parts.items() if value is not None}
    for name in fields:
        _check_name(name)
    if style == "rpc":
        return _rpc_envelope(operation, fields, soap_version, namespace).encode("utf-8")
    if style == "document":
        return _document_envelope(operation, fields, soap_version, namespace).encode("utf-8")
    if style == "bare":
        return _elements(operation, fields).encode("utf-8")
    raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")


def _rpc_envelope(operation, fields, soap_version, namespace):
    """NuSOAP's RPC/encoded call: the guess the addon's default must match (caja-vecina.md §3)."""
    # SOAP 1.2 forbids encodingStyle on the Envelope, so it moves to the call element.
    style_attr = f' SOAP-ENV:encodingStyle="{ENCODING_NS[soap_version]}"'
    envelope_style, call_style = (style_attr, "") if soap_version == "1.1" else ("", style_attr)
    typed = "".join(
        f'<{name} xsi:type="xsd:string">{escape(value)}</{name}>' for name, value in fields.items()
    )
    return (
        f"{XML_DECLARATION}"
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_NS[soap_version]}"'
        f' xmlns:xsd="{XSD_NS}" xmlns:xsi="{XSI_NS}"'
        f' xmlns:SOAP-ENC="{ENCODING_NS[soap_version]}"{envelope_style}>'
        "<SOAP-ENV:Body>"
        f"<ns1:{operation} xmlns:ns1={quoteattr(namespace)}{call_style}>{typed}</ns1:{operation}>"
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def _document_envelope(operation, fields, soap_version, namespace):
    """Document/literal as a WSDL-driven toolkit (SoapUI, zeep) writes it.

    Other prefixes than NuSOAP's, an empty Header and qualified parts: an
    endpoint that matched on `SOAP-ENV:` or on unprefixed parts fails here.
    """
    env = "soapenv" if soap_version == "1.1" else "soap"
    qualified = "".join(
        f"<tns:{name}>{escape(value)}</tns:{name}>" for name, value in fields.items()
    )
    wrapper = f"{operation}Request"
    return (
        f"{XML_DECLARATION}"
        f'<{env}:Envelope xmlns:{env}="{SOAP_NS[soap_version]}">'
        f"<{env}:Header/><{env}:Body>"
        f"<tns:{wrapper} xmlns:tns={quoteattr(namespace)}>{qualified}</tns:{wrapper}>"
        f"</{env}:Body></{env}:Envelope>"
    )


def _elements(operation, fields):
    """The spec's "Estructura XML" taken literally: no envelope at all."""
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
    return f"<{operation}>{inner}</{operation}>"


def soap_headers(operation, soap_version="1.1"):
    """HTTP headers of a call; NuSOAP's soapAction is `urn:<namespace>#<method>`."""
    _check_soap_version(soap_version)
    action = f"urn:ws#{operation}"
    if soap_version == "1.1":
        return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    return {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}


def _check_name(name):
    if not isinstance(name, str) or not _NCNAME.match(name):
        raise ValueError(f"not a usable XML element name: {name!r}")


def _check_soap_version(soap_version):
    if soap_version not in SOAP_NS:
        raise ValueError(f"unknown SOAP version {soap_version!r}; expected '1.1' or '1.2'")


def compact_rut(rut):
    """The RUT as the bank sends it: no dots, no hyphen, upper-case K (spec: "sin guión")."""
    return re.sub(r"[\s.-]", "", str(rut)).upper()


# --- answers the merchant returns ---


@dataclass
class Answer:
    """What came back. `respuesta` flattens RESPUESTA's leaves: {"CODIGO_ERROR": "0", …}."""

    http_status: int | None = None
    fault: str | None = None
    respuesta: dict = field(default_factory=dict)
    raw: bytes = b""

    @property
    def error_code(self):
        try:
            return int(self.respuesta["CODIGO_ERROR"])
        except (KeyError, ValueError):
            return None

    @property
    def accepted(self):
        return self.respuesta.get("ESTADO") == "aceptado"


def parse_answer(body):
    """Read a response body into an `Answer`; never raises on a bad body.

    A body that is not XML, or holds no RESPUESTA, gives an Answer whose
    `fault` says so: the bank's side must report, not crash.
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        return Answer(fault=f"la respuesta no es XML ({error})", raw=body)
    fault = _fault_text(root)
    if fault is not None:
        return Answer(fault=fault, raw=body)
    respuesta, problem = _find_respuesta(root)
    if respuesta is None:
        return Answer(fault=problem, raw=body)
    return Answer(respuesta=_flatten(respuesta), raw=body)


def _local(tag):
    """Local name of an ElementTree tag: `{ns}name` → `name`; prefixes never matter."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _first(root, name):
    return next((node for node in root.iter() if _local(node.tag) == name), None)


def _fault_text(root):
    """faultstring (SOAP 1.1) or Reason/Text (SOAP 1.2) of a Fault, else None."""
    fault = _first(root, "Fault")
    if fault is None:
        return None
    for name in ("faultstring", "Reason", "faultcode", "Code"):
        node = _first(fault, name)
        if node is not None:
            text = " ".join(part.strip() for part in node.itertext() if part.strip())
            if text:
                return text
    return "SOAP Fault"


def _find_respuesta(root):
    """Return (RESPUESTA element, None) or (None, why not).

    Inline mode puts the element in the tree; NuSOAP's string mode puts its
    escaped text in `<return>`, which ElementTree hands back unescaped, so it
    is parsed a second time.
    """
    inline = _first(root, "RESPUESTA")
    if inline is not None:
        return inline, None
    holders = [node for node in root.iter() if _local(node.tag) == "return"]
    holders += [node for node in root.iter() if (node.text or "").lstrip().startswith("<")]
    for holder in holders:
        text = (holder.text or "").strip()
        if not text:
            continue
        try:
            inner = ET.fromstring(text)
        except ET.ParseError as error:
            return None, f"<{_local(holder.tag)}> no contiene XML ({error})"
        found = _first(inner, "RESPUESTA")
        if found is not None:
            return found, None
    return None, "la respuesta no contiene RESPUESTA"


def _flatten(respuesta):
    """Leaf elements by local name; the first occurrence wins, empty ones give ""."""
    leaves = {}
    for node in respuesta.iter():
        if node is not respuesta and len(node) == 0:
            leaves.setdefault(_local(node.tag), (node.text or "").strip())
    return leaves


# --- the client ---


class BancoEstadoClient:
    """Calls a Caja Vecina webservice the way the bank would.

    `call` sends its parts verbatim (for tests of odd input); the two named
    operations send what the bank sends, the RUT without hyphen included.
    Each call is a fresh `requests` call, so threads may share one client.
    """

    def __init__(self, url, style="rpc", soap_version="1.1", auth=None, timeout=10, headers=None):
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
        _check_soap_version(soap_version)
        self.url = url
        self.style = style
        self.soap_version = soap_version
        self.auth = auth
        self.timeout = timeout
        self.headers = dict(headers or {})

    def call(self, operation, **parts):
        """POST one operation; HTTP errors and non-XML bodies come back in the Answer."""
        body = build_envelope(operation, parts, self.style, self.soap_version)
        headers = {**soap_headers(operation, self.soap_version), **self.headers}
        response = self._post(body, headers)
        answer = parse_answer(response.content)
        answer.http_status = response.status_code
        return answer

    def consultar_cliente(self, rut):
        return self.call("consultarCliente", rutCliente=compact_rut(rut))

    def registrar_pago(
        self, rut, factura, monto, descripcion="", pasarela="oficina", transaccion=None
    ):
        return self.call(
            "registrarPago",
            rutCliente=compact_rut(rut),
            factura=factura,
            monto=monto,
            descripcion=descripcion,
            pasarela=pasarela,
            transaccion=transaccion,
        )

    def wsdl(self):
        separator = "&" if "?" in self.url else "?"
        return requests.get(
            f"{self.url}{separator}wsdl",
            auth=self.auth,
            headers=self.headers,
            timeout=self.timeout,
        )

    def post_raw(self, body, content_type="text/xml; charset=utf-8", headers=None):
        """POST any bytes (hostile or malformed bodies); `headers` adds to this one request."""
        return self._post(body, {**self.headers, "Content-Type": content_type, **(headers or {})})

    def _post(self, body, headers):
        return requests.post(
            self.url, data=body, headers=headers, auth=self.auth, timeout=self.timeout
        )


# --- command line, for a person playing the bank ---


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m simulators.bancoestado_client",
        description="Llama al webservice Caja Vecina como lo haría BancoEstado.",
    )
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--style", choices=STYLES, default="rpc")
    parser.add_argument("--soap12", action="store_true", help="SOAP 1.2 en vez de 1.1")
    parser.add_argument("--user", help="usuario HTTP Basic")
    parser.add_argument("--password", default="", help="clave HTTP Basic")
    parser.add_argument("--timeout", type=float, default=10)
    commands = parser.add_subparsers(dest="command", required=True)
    consultar = commands.add_parser("consultar", help="consultarCliente: deuda de un RUT")
    consultar.add_argument("rut")
    pagar = commands.add_parser("pagar", help="registrarPago: paga una factura")
    pagar.add_argument("rut")
    pagar.add_argument("factura")
    pagar.add_argument("monto")
    pagar.add_argument("--transaccion")
    pagar.add_argument("--pasarela", default="oficina")
    pagar.add_argument("--descripcion", default="")
    return parser


def _run(args):
    client = BancoEstadoClient(
        args.url,
        style=args.style,
        soap_version="1.2" if args.soap12 else "1.1",
        auth=(args.user, args.password) if args.user else None,
        timeout=args.timeout,
    )
    if args.command == "consultar":
        return client.consultar_cliente(args.rut)
    return client.registrar_pago(
        args.rut,
        args.factura,
        args.monto,
        descripcion=args.descripcion,
        pasarela=args.pasarela,
        transaccion=args.transaccion,
    )


def _succeeded(answer):
    return answer.fault is None and (answer.error_code == 0 or answer.accepted)


def _report(answer):
    """Key: value lines; the RESPUESTA tags are Spanish already, so they are the keys."""
    lines = [("HTTP", str(answer.http_status))]
    if answer.fault is not None:
        lines.append(("FALLA", answer.fault))
    lines += list(answer.respuesta.items())
    lines.append(("RESULTADO", "OK" if _succeeded(answer) else "RECHAZADO"))
    width = max(len(key) for key, _ in lines)
    return "\n".join(f"{key.ljust(width)} : {value}" for key, value in lines)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        answer = _run(args)
    except requests.RequestException as error:
        sys.stderr.write(f"ERROR : no hubo respuesta de {args.url} ({error})\n")
        return 1
    sys.stdout.write(_report(answer) + "\n")
    return 0 if _succeeded(answer) else 1


if __name__ == "__main__":
    sys.exit(main())
