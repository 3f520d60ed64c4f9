"""Keys for the demo's SOAP Webpay: one merchant pair and one "Transbank" pair, kept in
a directory so that Odoo (which signs with the merchant key and trusts the Transbank
certificate) and the simulator process (which trusts the merchant certificate and
signs with the Transbank key) agree across restarts. Generated on first use; never
real credentials."""

import os

from .test_pki import make_key_and_certificate

FILES = {
    "merchant": ("merchant_key.pem", "merchant_certificate.pem"),
    "transbank": ("transbank_key.pem", "transbank_certificate.pem"),
}
COMMON_NAMES = {
    "merchant": "payment_latam demo merchant (integration)",
    "transbank": "Transbank Webpay (demo simulator)",
}


def load_or_create(directory):
    """{"merchant": (key, certificate), "transbank": (key, certificate)} as PEM bytes."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    pairs = {}
    for party, (key_name, certificate_name) in FILES.items():
        key_path = os.path.join(directory, key_name)
        certificate_path = os.path.join(directory, certificate_name)
        if not (os.path.exists(key_path) and os.path.exists(certificate_path)):
            key, certificate = make_key_and_certificate(COMMON_NAMES[party])
            for path, content in ((key_path, key), (certificate_path, certificate)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(content)
        with open(key_path, "rb") as key_file, open(certificate_path, "rb") as cert_file:
            pairs[party] = (key_file.read(), cert_file.read())
    return pairs
