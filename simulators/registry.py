"""Which gateway simulators exist, and the loopback ports the demo serves them on.

Each channel adds its simulator here when it lands, as
``name: ("simulators.<module>", "<ClassName>")``; `make run` starts them all
and points the demo providers at ``http://127.0.0.1:<port>``.
"""

import importlib

DEMO_PORTS = {"webpay": 8071, "etpay": 8072, "unicomer": 8073, "webpay_soap": 8074}

SIMULATORS = {
    "webpay": ("simulators.webpay", "WebpaySimulator"),
    "etpay": ("simulators.etpay", "EtpaySimulator"),
    "unicomer": ("simulators.unicomer", "UnicomerSimulator"),
    "webpay_soap": ("simulators.webpay_soap", "WebpaySoapSimulator"),
}


def load(name):
    module_name, class_name = SIMULATORS[name]
    return getattr(importlib.import_module(module_name), class_name)
