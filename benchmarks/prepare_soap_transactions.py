# Run inside `odoo-bin shell` (which provides `env`) by bench_webpay_soap_return.py, while
# its two Transbank simulators run: creates BENCH_COUNT Webpay transactions over the
# legacy SOAP API and BENCH_COUNT over REST, as the checkout does (each rendered, so
# every one is opened at its simulator and carries its token), commits, and writes
# their references and tokens as JSON to BENCH_OUTPUT.
#
# Both APIs read the gateway URL from the provider (`webpay_test_api_url`), and each
# side has its own simulator: REST runs on the module's Webpay provider, SOAP on a copy
# of it (created once per database, found again by name), with `webpay_api` = "soap" and
# the SOAP simulator's integration credentials (base64 of PEM, as the Binary fields
# store them) from BENCH_SOAP_PRIVATE_KEY, BENCH_SOAP_CERTIFICATE and
# BENCH_SOAP_TRANSBANK_CERTIFICATE.
import json
import os
import secrets

env = env  # noqa: F821 - provided by odoo-bin shell

SOAP_PROVIDER_NAME = "Webpay SOAP (benchmark)"
count = int(os.environ["BENCH_COUNT"])
run = secrets.token_hex(3)  # references stay unique if the database is reused
rest_provider = env.ref("payment_latam.payment_provider_webpay")
rest_provider.write(
    {
        "state": "test",
        "is_published": True,
        "webpay_api": "rest",
        "webpay_test_api_url": os.environ["BENCH_REST_SIMULATOR_URL"],
    }
)
soap_provider = env["payment.provider"].search(
    [("code", "=", "webpay"), ("name", "=", SOAP_PROVIDER_NAME)], limit=1
) or rest_provider.copy({"name": SOAP_PROVIDER_NAME})
soap_provider.write(
    {
        "state": "test",
        "is_published": True,
        "webpay_api": "soap",
        "webpay_mall": False,
        "capture_manually": False,
        "webpay_test_api_url": os.environ["BENCH_SOAP_SIMULATOR_URL"],
        "webpay_test_soap_private_key": os.environ["BENCH_SOAP_PRIVATE_KEY"],
        "webpay_test_soap_certificate": os.environ["BENCH_SOAP_CERTIFICATE"],
        "webpay_test_soap_transbank_certificate": os.environ["BENCH_SOAP_TRANSBANK_CERTIFICATE"],
    }
)
clp = env.ref("base.CLP")
clp.active = True
shopper = env["res.partner"].create(
    {"name": "Benchmark Shopper", "country_id": env.ref("base.cl").id, "email": "bench@example.cl"}
)
method = env.ref("payment_latam.payment_method_webpay")


def open_transactions(provider, prefix):
    opened = []
    for index in range(count):
        tx = env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": method.id,
                "amount": 15990.0,
                "currency_id": clp.id,
                "partner_id": shopper.id,
                "reference": f"{prefix}-{run}-{index:03d}",  # a buy order: 26 characters at most
                "operation": "online_redirect",
            }
        )
        tx._get_processing_values()  # renders the payment form, as the checkout does
        opened.append(
            {
                "reference": tx.reference,
                "token": tx.provider_reference or None,
                "api": tx.webpay_api,
            }
        )
    return opened


result = {
    "soap": open_transactions(soap_provider, "BENCH-WPS"),
    "rest": open_transactions(rest_provider, "BENCH-WPR"),
}
env.cr.commit()
with open(os.environ["BENCH_OUTPUT"], "w", encoding="utf-8") as output:
    json.dump(result, output)
