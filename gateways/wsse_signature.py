"""WS-Security for Transbank's legacy SOAP API: sign requests, verify answers.

No Odoo imports. The profile is the one Transbank's SOAP SDKs (1.x) used:
a ``wsse:Security`` header with a ``wsu:Timestamp`` and an XML-DSig
``ds:Signature`` (detached, exclusive c14n, RSA-SHA1, SHA1 digests) over the
SOAP Body (referenced by its ``wsu:Id``); ``KeyInfo`` names the certificate
by issuer and serial number through a ``wsse:SecurityTokenReference``.

SHA1 is weak, but it is what Transbank's SOAP services speak; it is allowed
here explicitly and nowhere else.

Verification never reads an unsigned part: it returns the Body as signxml
verified it (re-parsed from the signed bytes), after checking that the
signature's reference is the Body the envelope actually carries.
"""

import uuid
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import SignXMLException
from signxml.verifier import SignatureConfiguration

from . import webpay_soap_const as const
from .webpay_rest import WebpayUnknownOutcome

_SOAP = "{%s}" % const.SOAP_ENV_NS
_WSSE = "{%s}" % const.WSSE_NS
_WSU = "{%s}" % const.WSU_NS
_DS = "{%s}" % const.DS_NS
_WSU_ID = _WSU + "Id"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class SignatureInvalid(WebpayUnknownOutcome):
    """An answer whose WS-Security signature cannot be trusted.

    It is a `WebpayUnknownOutcome` on purpose: an answer we cannot trust is no
    answer. Transbank may well have done what we asked (moved the money), so the
    caller must treat it exactly as a lost answer, never as a refusal.
    """

    def __init__(self, reason):
        super().__init__(f"untrustworthy WS-Security signature: {reason}")
        self.reason = reason


def safe_parser():
    """An lxml parser that reads no DTD, expands no entity and opens no URL (XXE)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_envelope(data):
    """Parse `data` (bytes) safely; a document declaring a DTD is refused."""
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError as error:
        raise SignatureInvalid(f"unparsable XML ({error})") from error
    _refuse_dtd(root)
    return root


def _refuse_dtd(root):
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SignatureInvalid("the document declares a DTD")
    for _entity in root.iter(etree.Entity):
        raise SignatureInvalid("the document uses an entity")


class _Sha1Signer(XMLSigner):
    """signxml refuses SHA1 by default; Transbank's SOAP profile requires it."""

    def check_deprecated_methods(self):
        pass


def _load_certificate(certificate_pem):
    if isinstance(certificate_pem, str):
        certificate_pem = certificate_pem.encode("ascii")
    return x509.load_pem_x509_certificate(certificate_pem)


def _normalize_dn(name):
    """A distinguished name compared loosely: attribute order and spacing vary by toolkit."""
    parts = []
    for part in (name or "").replace("\\,", "\x00").split(","):
        key, _, value = part.partition("=")
        parts.append((key.strip().upper(), value.strip().replace("\x00", ",")))
    return sorted(parts)


def _timestamp_text(moment):
    return moment.strftime(_TIME_FORMAT)[:-4] + "Z"  # milliseconds, as WSS4J writes


def _parse_time(text):
    text = (text or "").strip()
    for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise SignatureInvalid(f"unreadable Timestamp {text!r}")


def _utc(now):
    if now is None:
        return datetime.now(timezone.utc)
    if isinstance(now, int | float):
        return datetime.fromtimestamp(now, timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def check_credentials(private_key_pem, certificate_pem, trusted_certificate_pem):
    """Raise ValueError (saying which) unless the three PEMs load and the key is the
    certificate's: an upload that cannot work must be refused before any call, since a
    failure while reading an answer would leave a payment's outcome unknown."""
    Signer(private_key_pem, certificate_pem).check_pair()
    check_certificate(trusted_certificate_pem, "Transbank's certificate")


def check_certificate(certificate_pem, label):
    try:
        return _load_certificate(certificate_pem)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{label} is not a PEM X.509 certificate") from error


class Signer:
    """Signs outgoing envelopes with one key; verifies incoming ones against a certificate."""

    def __init__(self, private_key_pem, certificate_pem, key_checked=False):
        self.certificate_pem = certificate_pem
        certificate = check_certificate(certificate_pem, "the merchant certificate")
        try:
            # Validating an RSA key costs about 30 ms: `key_checked` says it was done
            # once already (on upload), so each payment's client only parses it.
            self.private_key = serialization.load_pem_private_key(
                private_key_pem, password=None, unsafe_skip_rsa_key_validation=key_checked
            )
        except (TypeError, ValueError) as error:
            raise ValueError("the private key is not an unencrypted PEM key") from error
        self.certificate = certificate
        self.issuer_name = certificate.issuer.rfc4514_string()
        self.serial_number = certificate.serial_number

    def check_pair(self):
        """Raise ValueError unless the key is the certificate's (Transbank would refuse
        every signature; the tests build such signers on purpose, without this check)."""
        key_numbers = self.private_key.public_key().public_numbers()
        if key_numbers != self.certificate.public_key().public_numbers():
            raise ValueError("the private key does not belong to the merchant certificate")

    # --- signing ---

    def sign(self, envelope, now=None):
        """Add wsse:Security (Timestamp + Signature over Body and Timestamp) to `envelope`."""
        body = envelope.find(_SOAP + "Body")
        if body is None:
            raise ValueError("the envelope has no SOAP Body")
        header = envelope.find(_SOAP + "Header")
        if header is None:
            header = etree.Element(_SOAP + "Header")
            envelope.insert(0, header)
        for old in header.findall(_WSSE + "Security"):
            header.remove(old)  # a retry re-signs: never two signatures
        body_id = body.get(_WSU_ID) or f"id-{uuid.uuid4().hex}"
        body.set(_WSU_ID, body_id)

        security = etree.SubElement(
            header,
            _WSSE + "Security",
            {_SOAP + "mustUnderstand": "1"},
            nsmap={"wsse": const.WSSE_NS, "wsu": const.WSU_NS},
        )
        created = _utc(now)
        timestamp_id = f"TS-{uuid.uuid4().hex}"
        timestamp = etree.SubElement(security, _WSU + "Timestamp", {_WSU_ID: timestamp_id})
        etree.SubElement(timestamp, _WSU + "Created").text = _timestamp_text(created)
        etree.SubElement(timestamp, _WSU + "Expires").text = _timestamp_text(
            created + timedelta(seconds=const.TIMESTAMP_LIFETIME_SECONDS)
        )

        signer = _Sha1Signer(
            method=SignatureConstructionMethod.detached,
            signature_algorithm=SignatureMethod.RSA_SHA1,
            digest_algorithm=DigestAlgorithm.SHA1,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        signature = signer.sign(
            envelope,
            key=self.private_key,
            reference_uri=[f"#{body_id}", f"#{timestamp_id}"],
            key_info=self._key_info(),
        )
        security.append(signature)
        return envelope

    def _key_info(self):
        key_info = etree.Element(_DS + "KeyInfo", nsmap={"ds": const.DS_NS})
        reference = etree.SubElement(
            key_info, _WSSE + "SecurityTokenReference", nsmap={"wsse": const.WSSE_NS}
        )
        x509_data = etree.SubElement(reference, _DS + "X509Data")
        issuer_serial = etree.SubElement(x509_data, _DS + "X509IssuerSerial")
        etree.SubElement(issuer_serial, _DS + "X509IssuerName").text = self.issuer_name
        etree.SubElement(issuer_serial, _DS + "X509SerialNumber").text = str(self.serial_number)
        return key_info

    # --- verifying ---

    def verify(
        self,
        envelope,
        trusted_certificate_pem,
        now=None,
        max_skew_seconds=const.MAX_CLOCK_SKEW_SECONDS,
    ):
        """Return the signed Body of `envelope` (element or bytes), or raise SignatureInvalid."""
        return verify_envelope(envelope, trusted_certificate_pem, now, max_skew_seconds)


def verify_envelope(
    envelope, trusted_certificate_pem, now=None, max_skew_seconds=const.MAX_CLOCK_SKEW_SECONDS
):
    """See `Signer.verify` (usable without a key of our own)."""
    root = parse_envelope(envelope) if isinstance(envelope, bytes | str) else envelope
    _refuse_dtd(root)
    if root.tag != _SOAP + "Envelope":
        raise SignatureInvalid("not a SOAP 1.1 envelope")
    bodies = root.findall(_SOAP + "Body")
    headers = root.findall(_SOAP + "Header")
    if len(bodies) != 1 or len(headers) > 1:
        raise SignatureInvalid("the envelope must have one Body and at most one Header")
    body = bodies[0]
    securities = headers[0].findall(_WSSE + "Security") if headers else []
    if len(securities) != 1:
        raise SignatureInvalid("no wsse:Security header" if not securities else "two headers")
    security = securities[0]
    signatures = security.findall(_DS + "Signature")
    if len(signatures) != 1:
        raise SignatureInvalid("no Signature" if not signatures else "more than one Signature")
    signature = signatures[0]
    timestamps = security.findall(_WSU + "Timestamp")
    if len(timestamps) > 1:
        raise SignatureInvalid("more than one Timestamp")

    body_id = body.get(_WSU_ID)
    if not body_id:
        raise SignatureInvalid("the Body has no wsu:Id, so it cannot be the signed part")
    uris = [ref.get("URI") for ref in signature.findall(f"{_DS}SignedInfo/{_DS}Reference")]
    wanted = {f"#{body_id}": "body"}
    if timestamps:
        timestamp_id = timestamps[0].get(_WSU_ID)
        if not timestamp_id:
            raise SignatureInvalid("the Timestamp is not signed")
        wanted[f"#{timestamp_id}"] = "timestamp"
    if sorted(uris) != sorted(wanted) or len(set(uris)) != len(uris):
        # Anything else is a signature over some other element (e.g. a wrapped
        # copy of a Body): the Body we would read must be the one signed.
        raise SignatureInvalid(f"the signature covers {uris}, not the Body and Timestamp")
    _check_key_info(signature, _load_certificate(trusted_certificate_pem))

    trusted = trusted_certificate_pem
    if isinstance(trusted, bytes):
        trusted = trusted.decode("ascii")
    config = SignatureConfiguration(
        require_x509=True,
        location=f"./{_SOAP}Header/{_WSSE}Security/",
        expect_references=len(uris),
        signature_methods=frozenset({SignatureMethod.RSA_SHA1, SignatureMethod.RSA_SHA256}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA1, DigestAlgorithm.SHA256}),
    )
    # KeyInfo was checked above and is not signed; signxml's schema check
    # rejects long serial numbers (libxml2's xs:integer), so it verifies a copy
    # without it: the trusted certificate, not KeyInfo, decides.
    checked = etree.fromstring(etree.tostring(root), parser=safe_parser())
    for key_info in checked.iterfind(f"{_SOAP}Header/{_WSSE}Security/{_DS}Signature/{_DS}KeyInfo"):
        key_info.getparent().remove(key_info)
    try:
        results = XMLVerifier().verify(
            checked, x509_cert=trusted, id_attribute="Id", expect_config=config
        )
    except (SignXMLException, ValueError, etree.LxmlError) as error:
        raise SignatureInvalid(str(error) or type(error).__name__) from error
    if not isinstance(results, list):
        results = [results]

    verified = {wanted[uri]: result.signed_xml for uri, result in zip(uris, results, strict=True)}
    signed_body = verified["body"]
    if signed_body is None or signed_body.tag != _SOAP + "Body":
        raise SignatureInvalid("the signed part is not the SOAP Body")
    if "timestamp" in verified:
        _check_timestamp(verified["timestamp"], _utc(now), max_skew_seconds)
    # No Timestamp is accepted: Transbank's SDK 1.x did not require one on answers.
    # Results name their token or buy order (checked by the client); capture and
    # nullify answers only their amounts and codes, so an old one replayed to a
    # new call of the same amounts would pass: TLS to Transbank is what stops that,
    # until Transbank's real answers are known to carry a Timestamp to require.
    return signed_body


def _check_key_info(signature, certificate):
    issuer_serial = signature.find(
        f"{_DS}KeyInfo/{_WSSE}SecurityTokenReference/{_DS}X509Data/{_DS}X509IssuerSerial"
    )
    if issuer_serial is None:
        raise SignatureInvalid("KeyInfo names no X509IssuerSerial")
    issuer = issuer_serial.findtext(_DS + "X509IssuerName")
    serial = (issuer_serial.findtext(_DS + "X509SerialNumber") or "").strip()
    if _normalize_dn(issuer) != _normalize_dn(certificate.issuer.rfc4514_string()) or serial != str(
        certificate.serial_number
    ):
        raise SignatureInvalid("KeyInfo names another certificate than the trusted one")


def _check_timestamp(timestamp, now, max_skew_seconds):
    if timestamp.tag != _WSU + "Timestamp":
        raise SignatureInvalid("the signed part is not the Timestamp")
    skew = timedelta(seconds=max_skew_seconds)
    created = _parse_time(timestamp.findtext(_WSU + "Created"))
    if created > now + skew:
        raise SignatureInvalid("the Timestamp is in the future")
    expires_text = timestamp.findtext(_WSU + "Expires")
    expires = (
        _parse_time(expires_text)
        if expires_text
        else created + timedelta(seconds=const.TIMESTAMP_LIFETIME_SECONDS)
    )
    if expires < now - skew:
        raise SignatureInvalid("the Timestamp is stale")
