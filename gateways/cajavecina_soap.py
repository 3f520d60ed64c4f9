"""The Caja Vecina webservice's wire format: SOAP in, SOAP out. No Odoo imports.

BancoEstado's client was configured against Mikrowisp's NuSOAP service, whose
exact envelope is unknown; so requests are read by local name (any prefix or
namespace, RPC or document style, SOAP 1.1 or 1.2, or the spec's bare
operation element) and answers mimic NuSOAP: the `RESPUESTA` document as an
escaped string in `<return>`, or inline when the provider says so.

Parsing refuses any DTD before lxml sees it: no external entity (XXE), no
entity expansion bomb, no network access.
"""

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from . import cajavecina_const as const

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
ENCODING_NS = "http://schemas.xmlsoap.org/soap/encoding/"


class SoapRequestError(Exception):
    """The request is not a call of this service; `reason` goes into the SOAP Fault."""

    def __init__(self, reason, soap_version="1.1"):
        super().__init__(reason)
        self.reason = reason
        self.soap_version = soap_version


@dataclass(frozen=True)
class SoapRequest:
    operation: str
    parts: dict  # part name → text (None when absent)
    soap_version: str  # "1.1" or "1.2"


def _local(tag):
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _elements(node):
    return [child for child in node if isinstance(child.tag, str)]


def _operation_of(name, soap_action):
    """The operation an element (or, failing that, the SOAPAction header) names."""
    for candidate in (name, name.removesuffix("Request")):
        if candidate in const.OPERATIONS:
            return candidate
    action = (soap_action or "").strip().strip('"')
    action_name = re.split(r"[#/:]", action)[-1] if action else ""
    return action_name if action_name in const.OPERATIONS else None


def parse_request(body, soap_action=None):
    """Read a request body; return a `SoapRequest` or raise `SoapRequestError`."""
    if not body or not body.strip():
        raise SoapRequestError("empty request")
    if len(body) > const.MAX_REQUEST_BYTES:
        raise SoapRequestError("request too large")
    if _DTD.search(body):
        raise SoapRequestError("DTDs and entities are not accepted")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise SoapRequestError("malformed XML") from error
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # e.g. a DTD in UTF-16
        raise SoapRequestError("DTDs and entities are not accepted")
    soap_version = "1.1"
    if _local(root.tag) == "Envelope":
        soap_version = "1.2" if etree.QName(root).namespace == const.SOAP12_NS else "1.1"
        bodies = [child for child in _elements(root) if _local(child.tag) == "Body"]
        if len(bodies) != 1:
            raise SoapRequestError("a SOAP envelope has one Body", soap_version)
        children = _elements(bodies[0])
        if not children:
            raise SoapRequestError("the SOAP Body is empty", soap_version)
        call = children[0]
    else:
        call, children = root, [root]  # the spec's bare <consultarCliente> document
    operation = _operation_of(_local(call.tag), None)
    if operation:
        part_nodes = _elements(call)
    else:
        # Document style without a wrapper: the parts sit in the Body, the
        # operation is in the SOAPAction header.
        operation = _operation_of("", soap_action)
        part_nodes = children
    if not operation:
        raise SoapRequestError("unknown operation", soap_version)
    return SoapRequest(operation, _read_parts(operation, part_nodes, soap_version), soap_version)


def _read_parts(operation, nodes, soap_version):
    parts = dict.fromkeys(const.OPERATIONS[operation])
    seen = set()
    for node in nodes:
        name = _local(node.tag)
        if name not in parts:
            continue  # unknown parts are ignored, as SOAP servers do
        if name in seen:
            raise SoapRequestError(f"part {name} is repeated", soap_version)
        seen.add(name)
        if _elements(node):
            raise SoapRequestError(f"part {name} must be text", soap_version)
        nil = node.get(f"{{{XSI_NS}}}nil") in ("true", "1")
        parts[name] = None if nil else (node.text or "").strip()
    return parts


# === Answers === #


def _sub(parent, tag, text):
    element = etree.SubElement(parent, tag)
    element.text = "" if text is None else str(text)
    return element


def _errors(parent, code, description):
    errors = etree.SubElement(parent, "ERRORES")
    _sub(errors, "CODIGO_ERROR", code)
    _sub(errors, "DESCRIPCION_ERROR", description[:1000])


def client_answer(client_id, rut, due_date, total):
    """`consultarCliente`, debt found (Estructura 2)."""
    answer = etree.Element("RESPUESTA")
    client = etree.SubElement(answer, "CLIENTE")
    _sub(client, "ID_CLIENTE", client_id)
    _sub(client, "RUT_CLIENTE", rut)
    _sub(client, "FECHA_VENCIMIENTO", due_date)
    _sub(client, "TOTAL", total)
    _errors(answer, const.OK, "")
    return answer


def error_answer(code, description):
    """Any operation that could not be done: an empty CLIENTE and the ERRORES block."""
    answer = etree.Element("RESPUESTA")
    etree.SubElement(answer, "CLIENTE")
    _errors(answer, code, description)
    return answer


def payment_answer(client_id, rut, sent_at, message):
    """`registrarPago` accepted (the spec's answer to Estructura 3)."""
    answer = etree.Element("RESPUESTA")
    _sub(answer, "ID_CLIENTE", client_id)
    _sub(answer, "RUT_CLIENTE", rut)
    _sub(answer, "FECHA_ENVIO", sent_at)
    _sub(answer, "ESTADO", const.ACCEPTED)
    _sub(answer, "MENSAJE", message[:255])
    return answer


def answer_to_string(answer):
    return etree.tostring(answer, encoding="unicode")


def answer_from_string(text):
    return etree.fromstring(text.encode("utf-8"), _PARSER)


def _envelope(soap_version):
    soap_ns = const.SOAP12_NS if soap_version == "1.2" else const.SOAP11_NS
    nsmap = {"SOAP-ENV": soap_ns, "xsd": XSD_NS, "xsi": XSI_NS, "SOAP-ENC": ENCODING_NS}
    envelope = etree.Element(f"{{{soap_ns}}}Envelope", nsmap=nsmap)
    return envelope, etree.SubElement(envelope, f"{{{soap_ns}}}Body")


def response_envelope(operation, answer, mode, soap_version="1.1"):
    """The SOAP response carrying `answer` (a RESPUESTA element) for `operation`."""
    envelope, body = _envelope(soap_version)
    wrapper = etree.SubElement(
        body, f"{{{const.SERVICE_NAMESPACE}}}{operation}Response", nsmap={"ns1": "ws/"}
    )
    returned = etree.SubElement(wrapper, "return")
    if mode == const.RESPONSE_MODE_INLINE:
        returned.append(answer)
    else:
        returned.set(f"{{{XSI_NS}}}type", "xsd:string")
        returned.text = answer_to_string(answer)  # lxml escapes it on output
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def fault_envelope(reason, soap_version="1.1"):
    """A SOAP Fault: for requests that are not a call of this service at all."""
    envelope, body = _envelope(soap_version)
    soap_ns = etree.QName(envelope).namespace
    fault = etree.SubElement(body, f"{{{soap_ns}}}Fault")
    if soap_version == "1.2":
        code = etree.SubElement(fault, f"{{{soap_ns}}}Code")
        _sub(code, f"{{{soap_ns}}}Value", "SOAP-ENV:Sender")
        reason_node = etree.SubElement(fault, f"{{{soap_ns}}}Reason")
        text = _sub(reason_node, f"{{{soap_ns}}}Text", reason)
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "es")
    else:
        _sub(fault, "faultcode", "SOAP-ENV:Client")
        _sub(fault, "faultstring", reason)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def content_type(soap_version):
    return const.SOAP12_CONTENT_TYPE if soap_version == "1.2" else const.SOAP11_CONTENT_TYPE


def wsdl(location):
    """The service description, RPC/encoded as NuSOAP publishes it, at `location`."""
    messages = "".join(
        f'<message name="{operation}Request">'
        + "".join(f'<part name="{part}" type="xsd:string"/>' for part in parts)
        + f'</message><message name="{operation}Response">'
        '<part name="return" type="xsd:string"/></message>'
        for operation, parts in const.OPERATIONS.items()
    )
    body = (
        '<soap:body use="encoded" namespace="ws/" '
        'encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"/>'
    )
    operations = "".join(
        f'<operation name="{operation}"><input message="tns:{operation}Request"/>'
        f'<output message="tns:{operation}Response"/></operation>'
        for operation in const.OPERATIONS
    )
    bindings = "".join(
        f'<operation name="{operation}">'
        f'<soap:operation soapAction="urn:ws#{operation}" style="rpc"/>'
        f"<input>{body}</input><output>{body}</output></operation>"
        for operation in const.OPERATIONS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<definitions xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" xmlns:tns="ws/" '
        'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns="http://schemas.xmlsoap.org/wsdl/" targetNamespace="ws/">'
        '<types><xsd:schema targetNamespace="ws/">'
        '<xsd:import namespace="http://schemas.xmlsoap.org/soap/encoding/"/>'
        '<xsd:import namespace="http://schemas.xmlsoap.org/wsdl/"/></xsd:schema></types>'
        f'{messages}<portType name="BancoEstadoPortType">{operations}</portType>'
        '<binding name="BancoEstadoBinding" type="tns:BancoEstadoPortType">'
        '<soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>'
        f'{bindings}</binding><service name="BancoEstado">'
        '<port name="BancoEstadoPort" binding="tns:BancoEstadoBinding">'
        f'<soap:address location="{escape(location, {chr(34): "&quot;"})}"/></port></service>'
        "</definitions>"
    ).encode()
