"""WS-Security of the SOAP client (gateways/wsse_signature.py), no network, no Odoo models."""

import copy
import time

from lxml import etree

from odoo.tests import BaseCase, tagged

from odoo.addons.payment_latam.gateways import webpay_soap_const as const
from odoo.addons.payment_latam.gateways.webpay_rest import WebpayError, WebpayUnknownOutcome
from odoo.addons.payment_latam.gateways.wsse_signature import (
    SignatureInvalid,
    Signer,
    parse_envelope,
)
from odoo.addons.payment_latam.simulators import soap_signing
from odoo.addons.payment_latam.simulators.test_pki import make_key_and_certificate

SOAP = "{%s}" % const.SOAP_ENV_NS
WSSE = "{%s}" % const.WSSE_NS
WSU = "{%s}" % const.WSU_NS
DS = "{%s}" % const.DS_NS
NS = {"soap": const.SOAP_ENV_NS, "wsse": const.WSSE_NS, "wsu": const.WSU_NS, "ds": const.DS_NS}

ENVELOPE = b"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<ns0:getTransactionResult xmlns:ns0="http://service.wswebpay.webpay.transbank.com/">
<tokenInput>TOKEN-1</tokenInput></ns0:getTransactionResult></soap:Body></soap:Envelope>"""


@tagged("post_install", "-at_install", "payment_latam", "webpay_soap")
class TestWebpaySoapSignature(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key, cls.cert = make_key_and_certificate("Transbank test")
        cls.other_key, cls.other_cert = make_key_and_certificate("Impostor")
        cls.signer = Signer(cls.key, cls.cert)

    def _signed(self, now=None):
        return self.signer.sign(etree.fromstring(ENVELOPE), now=now)

    def _bytes(self, envelope):
        return etree.tostring(envelope)

    def assertRefused(self, data, fragment, cert=None, **kwargs):
        with self.assertRaises(SignatureInvalid) as caught:
            self.signer.verify(data, cert or self.cert, **kwargs)
        self.assertIn(fragment, caught.exception.reason)
        return caught.exception

    # --- the profile ---

    def test_roundtrip_returns_the_signed_body(self):
        body = self.signer.verify(self._bytes(self._signed()), self.cert)
        self.assertEqual(body.tag, SOAP + "Body")
        self.assertEqual(body.findtext(".//tokenInput"), "TOKEN-1")

    def test_profile_is_transbanks(self):
        envelope = self._signed()
        security = envelope.find("soap:Header/wsse:Security", NS)
        self.assertIsNotNone(security.find("wsu:Timestamp/wsu:Created", NS))
        signed_info = security.find("ds:Signature/ds:SignedInfo", NS)
        self.assertEqual(
            signed_info.find("ds:CanonicalizationMethod", NS).get("Algorithm"),
            "http://www.w3.org/2001/10/xml-exc-c14n#",
        )
        self.assertEqual(
            signed_info.find("ds:SignatureMethod", NS).get("Algorithm"),
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        )
        digests = {n.get("Algorithm") for n in signed_info.iterfind(".//ds:DigestMethod", NS)}
        self.assertEqual(digests, {"http://www.w3.org/2000/09/xmldsig#sha1"})
        body_id = envelope.find("soap:Body", NS).get(WSU + "Id")
        uris = [ref.get("URI") for ref in signed_info.iterfind("ds:Reference", NS)]
        self.assertIn(f"#{body_id}", uris)
        serial = security.findtext(
            "ds:Signature/ds:KeyInfo/wsse:SecurityTokenReference/ds:X509Data/"
            "ds:X509IssuerSerial/ds:X509SerialNumber",
            namespaces=NS,
        )
        self.assertEqual(serial, str(self.signer.serial_number))
        # Expires is five minutes after Created.
        created = envelope.findtext(".//wsu:Created", namespaces=NS)
        expires = envelope.findtext(".//wsu:Expires", namespaces=NS)
        self.assertLess(created, expires)

    def test_signature_invalid_means_unknown_outcome(self):
        self.assertTrue(issubclass(SignatureInvalid, WebpayUnknownOutcome))
        self.assertTrue(issubclass(SignatureInvalid, WebpayError))

    def test_resigning_leaves_one_signature(self):
        envelope = self.signer.sign(self._signed())
        self.assertEqual(len(envelope.findall(".//ds:Signature", NS)), 1)
        self.signer.verify(self._bytes(envelope), self.cert)

    # --- refusals ---

    def test_tampered_body(self):
        data = self._bytes(self._signed()).replace(b"TOKEN-1", b"TOKEN-2")
        self.assertRefused(data, "Digest mismatch")

    def test_wrong_certificate(self):
        self.assertRefused(self._bytes(self._signed()), "another certificate", cert=self.other_cert)

    def test_forged_key_info_naming_the_trusted_certificate(self):
        forger = Signer(self.other_key, self.cert)  # claims to be Transbank, signs with another key
        data = self._bytes(forger.sign(etree.fromstring(ENVELOPE)))
        self.assertRefused(data, "Signature verification failed")

    def test_missing_security_header(self):
        self.assertRefused(ENVELOPE, "no wsse:Security")

    def test_missing_signature(self):
        envelope = self._signed()
        signature = envelope.find(".//ds:Signature", NS)
        signature.getparent().remove(signature)
        self.assertRefused(self._bytes(envelope), "no Signature")

    def test_stale_and_future_timestamps(self):
        data = self._bytes(self._signed())
        self.assertRefused(data, "stale", now=time.time() + 11 * 60)
        future = self._bytes(self._signed(now=time.time() + 10 * 60))
        self.assertRefused(future, "future")
        # within the skew it passes
        self.signer.verify(data, self.cert, now=time.time() + 6 * 60)

    def test_timestamp_not_covered_by_the_signature(self):
        envelope = self._signed()
        envelope.find(".//wsu:Timestamp", NS).set(WSU + "Id", "unsigned-stamp")
        self.assertRefused(self._bytes(envelope), "not the Body and Timestamp")

    def test_timestamp_edited_after_signing(self):
        envelope = self._signed()
        envelope.find(".//wsu:Created", NS).text = "2099-01-01T00:00:00.000Z"
        self.assertRefused(self._bytes(envelope), "Digest mismatch")

    def test_no_timestamp_with_a_valid_body_signature_is_accepted(self):
        # Transbank's SDK 1.x did not require a Timestamp on answers.
        envelope = etree.fromstring(ENVELOPE)
        etree.SubElement(envelope, SOAP + "Header")
        envelope.insert(0, envelope[-1])
        soap_signing.sign(envelope, self.key, self.cert, time.time(), timestamp=False)
        body = self.signer.verify(self._bytes(envelope), self.cert)
        self.assertEqual(body.findtext(".//tokenInput"), "TOKEN-1")

    def test_interoperates_with_the_simulators_signing(self):
        envelope = etree.fromstring(ENVELOPE)
        envelope.insert(0, etree.Element(SOAP + "Header"))
        soap_signing.sign(envelope, self.key, self.cert, time.time())
        self.signer.verify(self._bytes(envelope), self.cert)
        ours = self._signed()
        body = soap_signing.verify(ours, self.cert, time.time())
        self.assertEqual(body.findtext(".//tokenInput"), "TOKEN-1")

    # --- signature wrapping ---

    def test_wrapping_signed_body_moved_into_header(self):
        envelope = self._signed()
        body = envelope.find("soap:Body", NS)
        original_id = body.get(WSU + "Id")
        wrapper = etree.SubElement(envelope.find("soap:Header", NS), "{urn:evil}Wrapper")
        wrapper.append(copy.deepcopy(body))
        body.set(WSU + "Id", "evil-body")
        body.find(".//tokenInput").text = "EVIL"
        data = self._bytes(envelope)
        self.assertIn(original_id.encode(), data)
        self.assertRefused(data, "not the Body and Timestamp")

    def test_wrapping_with_duplicate_ids(self):
        envelope = self._signed()
        body = envelope.find("soap:Body", NS)
        wrapper = etree.SubElement(envelope.find("soap:Header", NS), "{urn:evil}Wrapper")
        wrapper.append(copy.deepcopy(body))  # same wsu:Id twice: which one is signed?
        body.find(".//tokenInput").text = "EVIL"
        self.assertRefused(self._bytes(envelope), "Ambiguous reference")

    def test_reference_pointing_elsewhere(self):
        envelope = etree.fromstring(ENVELOPE)
        header = etree.SubElement(envelope, SOAP + "Header")
        envelope.insert(0, header)
        other = etree.SubElement(header, "{urn:x}Other", {WSU + "Id": "other"})
        other.text = "signed but irrelevant"
        signed = self.signer.sign(envelope)
        for reference in signed.iterfind(".//ds:Reference", NS):
            if not reference.get("URI").startswith("#TS-"):
                reference.set("URI", "#other")
        self.assertRefused(self._bytes(signed), "not the Body and Timestamp")

    # --- XXE ---

    def test_dtd_and_entities_are_refused(self):
        xxe = (
            b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            + ENVELOPE.replace(b"TOKEN-1", b"&xxe;")
        )
        with self.assertRaises(SignatureInvalid) as caught:
            parse_envelope(xxe)
        self.assertIn("DTD", caught.exception.reason)
        self.assertRefused(xxe, "DTD")
        with self.assertRaises(soap_signing.SecurityError):
            soap_signing.parse(xxe)

    def test_billion_laughs_is_refused(self):
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
        )
        self.assertRefused(bomb, "DTD")
