"""The simulator's own WS-Security (Transbank's side of the wire). No Odoo imports.

Deliberately separate from the addon's gateways/wsse_signature.py: a bug
shared by both sides would let the tests pass against a broken client. The
profile is Transbank's SOAP one: wsse:Security with a wsu:Timestamp and a
detached XML-DSig (exclusive c14n, RSA-SHA1, SHA1 digests) over the Body
and the Timestamp, KeyInfo naming the certificate by issuer and serial.
"""

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLSigner, XMLVerifier
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.exceptions import SignXMLException
from signxml.verifier import SignatureConfiguration

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"soap": SOAP, "wsse": WSSE, "wsu": WSU, "ds": DS}
WSU_ID = f"{{{WSU}}}Id"

LIFETIME = 300  # seconds a message is good for
SKEW = 300  # seconds of clock difference tolerated either way


class SecurityError(Exception):
    """A request Transbank would refuse before reading it."""


@dataclass(frozen=True)
class CertificateId:
    issuer: tuple
    serial: int

    @classmethod
    def of_pem(cls, certificate_pem):
        certificate = x509.load_pem_x509_certificate(_bytes(certificate_pem))
        return cls(_dn_key(certificate.issuer.rfc4514_string()), certificate.serial_number)


@functools.lru_cache(maxsize=16)
def _private_key(key_pem):
    # Parsed once per key: loading an RSA key costs tens of milliseconds, which would
    # otherwise be counted in every answer's time.
    return serialization.load_pem_private_key(_bytes(key_pem), password=None)


def _bytes(value):
    return value.encode("ascii") if isinstance(value, str) else value


def _dn_key(text):
    pairs = []
    for piece in (text or "").split(","):
        name, _, value = piece.partition("=")
        pairs.append((name.strip().upper(), value.strip()))
    return tuple(sorted(pairs))


def parse(data):
    """Parse a request: no DTD, no entities, no network (XXE)."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as error:
        raise SecurityError(f"malformed XML: {error}") from error
    if root.getroottree().docinfo.doctype:
        raise SecurityError("DTDs are not accepted")
    return root


def _iso(moment):
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _epoch(text):
    try:
        moment = datetime.strptime((text or "").strip().replace("Z", ""), "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        try:
            moment = datetime.strptime((text or "").strip().replace("Z", ""), "%Y-%m-%dT%H:%M:%S")
        except ValueError as error:
            raise SecurityError(f"unreadable timestamp {text!r}") from error
    return moment.replace(tzinfo=timezone.utc).timestamp()


class _Signer(XMLSigner):
    def check_deprecated_methods(self):
        """Transbank's profile is SHA1: allowed on purpose."""


def sign(envelope, key_pem, certificate_pem, now, timestamp=True):
    """Sign `envelope` (lxml Envelope with Header and Body) in place."""
    header = envelope.find(f"{{{SOAP}}}Header")
    body = envelope.find(f"{{{SOAP}}}Body")
    security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    body_id = "Body-" + uuid.uuid4().hex
    body.set(WSU_ID, body_id)
    uris = ["#" + body_id]
    if timestamp:
        stamp_id = "Timestamp-" + uuid.uuid4().hex
        stamp = etree.SubElement(security, f"{{{WSU}}}Timestamp", {WSU_ID: stamp_id})
        etree.SubElement(stamp, f"{{{WSU}}}Created").text = _iso(now)
        etree.SubElement(stamp, f"{{{WSU}}}Expires").text = _iso(now + LIFETIME)
        uris.append("#" + stamp_id)
    certificate = x509.load_pem_x509_certificate(_bytes(certificate_pem))
    key_info = etree.Element(f"{{{DS}}}KeyInfo", nsmap={"ds": DS})
    token_reference = etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference")
    issuer_serial = etree.SubElement(
        etree.SubElement(token_reference, f"{{{DS}}}X509Data"), f"{{{DS}}}X509IssuerSerial"
    )
    etree.SubElement(
        issuer_serial, f"{{{DS}}}X509IssuerName"
    ).text = certificate.issuer.rfc4514_string()
    etree.SubElement(issuer_serial, f"{{{DS}}}X509SerialNumber").text = str(
        certificate.serial_number
    )
    signature = _Signer(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SignatureMethod.RSA_SHA1,
        digest_algorithm=DigestAlgorithm.SHA1,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    ).sign(envelope, key=_private_key(key_pem), reference_uri=uris, key_info=key_info)
    security.append(signature)
    return envelope


def signer_id(envelope):
    """The certificate the request says signed it (unverified: only to pick a key)."""
    serial_node = envelope.find(
        "soap:Header/wsse:Security/ds:Signature/ds:KeyInfo/wsse:SecurityTokenReference"
        "/ds:X509Data/ds:X509IssuerSerial",
        NS,
    )
    if serial_node is None:
        raise SecurityError("no signature, or no X509IssuerSerial in its KeyInfo")
    try:
        serial = int(serial_node.findtext("ds:X509SerialNumber", "", NS).strip())
    except ValueError as error:
        raise SecurityError("unreadable serial number") from error
    return CertificateId(_dn_key(serial_node.findtext("ds:X509IssuerName", "", NS)), serial)


def verify(envelope, certificate_pem, now, require_timestamp=True):
    """Return the Body as signed by `certificate_pem`'s key, or raise SecurityError."""
    body = envelope.findall("soap:Body", NS)
    security = envelope.findall("soap:Header/wsse:Security", NS)
    if len(body) != 1 or len(security) != 1:
        raise SecurityError("one Body and one wsse:Security header are required")
    body, security = body[0], security[0]
    signatures = security.findall("ds:Signature", NS)
    stamps = security.findall("wsu:Timestamp", NS)
    if len(signatures) != 1 or len(stamps) > 1:
        raise SecurityError("exactly one Signature and at most one Timestamp")
    if require_timestamp and not stamps:
        raise SecurityError("a Timestamp is required")
    expected = {"#" + (body.get(WSU_ID) or "?"): "body"}
    if stamps:
        expected["#" + (stamps[0].get(WSU_ID) or "?")] = "timestamp"
    uris = [node.get("URI") for node in signatures[0].iterfind("ds:SignedInfo/ds:Reference", NS)]
    if sorted(uris) != sorted(expected):
        raise SecurityError("the signature must cover exactly the Body and the Timestamp")

    # KeyInfo only picked the certificate (signer_id); signxml's schema check
    # rejects long serial numbers, so it verifies a copy without it.
    copy = parse(etree.tostring(envelope))
    for key_info in copy.iterfind("soap:Header/wsse:Security/ds:Signature/ds:KeyInfo", NS):
        key_info.getparent().remove(key_info)
    config = SignatureConfiguration(
        location=f"./{{{SOAP}}}Header/{{{WSSE}}}Security/",
        expect_references=len(uris),
        signature_methods=frozenset({SignatureMethod.RSA_SHA1}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA1}),
    )
    try:
        results = XMLVerifier().verify(
            copy, x509_cert=_bytes(certificate_pem).decode("ascii"), expect_config=config
        )
    except (SignXMLException, ValueError, etree.LxmlError) as error:
        raise SecurityError(f"signature check failed: {error}") from error
    results = results if isinstance(results, list) else [results]
    signed = {expected[uri]: result.signed_xml for uri, result in zip(uris, results, strict=True)}
    if signed["body"] is None or signed["body"].tag != f"{{{SOAP}}}Body":
        raise SecurityError("the signed part is not the Body")
    if "timestamp" in signed:
        created = _epoch(signed["timestamp"].findtext("wsu:Created", "", NS))
        expires_text = signed["timestamp"].findtext("wsu:Expires", "", NS)
        expires = _epoch(expires_text) if expires_text else created + LIFETIME
        if abs(now - created) > SKEW or now > expires + SKEW:
            raise SecurityError("the Timestamp is stale or in the future")
    return signed["body"]
