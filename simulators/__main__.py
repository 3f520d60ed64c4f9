"""Serve the gateway simulators for the demo: `python -m simulators` from the repo root."""

import argparse
import logging
import os
import signal
import threading

from . import demo_pki, registry
from .webpay_soap import INTEGRATION_CODES

_logger = logging.getLogger("simulators")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s simulators: %(message)s")

    running = []
    for name in registry.SIMULATORS:
        options = _demo_options(name)
        simulator = registry.load(name)(
            host=args.host, port=registry.DEMO_PORTS[name], **options
        ).start()
        if name == "webpay_soap" and options:
            _trust_demo_merchant(simulator)
        running.append(simulator)
        _logger.info("%s simulator on %s", name, simulator.url)
    if not running:
        _logger.info("no gateway simulator is registered yet")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for simulator in running:
        simulator.stop()


def _demo_pki():
    directory = os.environ.get("PAYMENT_LATAM_DEMO_PKI")
    return demo_pki.load_or_create(directory) if directory else None


def _demo_options(name):
    """The SOAP simulator signs with the demo's "Transbank" key, which Odoo trusts."""
    pki = _demo_pki() if name == "webpay_soap" else None
    if not pki:
        return {}
    key, certificate = pki["transbank"]
    return {"transbank_key_pem": key, "transbank_certificate_pem": certificate}


def _trust_demo_merchant(simulator):
    _key, certificate = _demo_pki()["merchant"]
    for code in INTEGRATION_CODES:
        simulator.register_merchant(code, certificate)


if __name__ == "__main__":
    main()
