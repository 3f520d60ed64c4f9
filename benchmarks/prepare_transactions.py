# Run inside `odoo-bin shell` (which provides `env`) by bench_webpay_return.py, while
# its Transbank simulator runs: creates BENCH_COUNT Webpay and BENCH_COUNT demo
# transactions as the checkout does (each rendered, so every Webpay one is opened at
# the simulator and carries its token), commits, and writes their references and
# tokens as JSON to BENCH_OUTPUT.
import json
import os
import secrets

env = env  # noqa: F821 - provided by odoo-bin shell

count = int(os.environ["BENCH_COUNT"])
run = secrets.token_hex(3)  # references stay unique if the database is reused
webpay = env.ref("payment_latam.payment_provider_webpay")
webpay.write(
    {
        "state": "test",
        "is_published": True,
        "webpay_test_api_url": os.environ["BENCH_SIMULATOR_URL"],
    }
)
demo = env.ref("payment.payment_provider_demo")
demo.write({"state": "test", "is_published": True})
clp = env.ref("base.CLP")
clp.active = True
shopper = env["res.partner"].create(
    {"name": "Benchmark Shopper", "country_id": env.ref("base.cl").id, "email": "bench@example.cl"}
)


def open_transactions(provider, method_xmlid, operation, prefix):
    opened = []
    for index in range(count):
        tx = env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": env.ref(method_xmlid).id,
                "amount": 15990.0,
                "currency_id": clp.id,
                "partner_id": shopper.id,
                "reference": f"{prefix}-{run}-{index:03d}",
                "operation": operation,
            }
        )
        tx._get_processing_values()  # renders the payment form, as the checkout does
        opened.append({"reference": tx.reference, "token": tx.provider_reference or None})
    return opened


result = {
    "webpay": open_transactions(
        webpay, "payment_latam.payment_method_webpay", "online_redirect", "BENCH-WP"
    ),
    "demo": open_transactions(
        demo, "payment_demo.payment_method_demo", "online_direct", "BENCH-DEMO"
    ),
}
env.cr.commit()
with open(os.environ["BENCH_OUTPUT"], "w", encoding="utf-8") as output:
    json.dump(result, output)
