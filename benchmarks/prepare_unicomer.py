# Run inside `odoo-bin shell` (which provides `env`) by bench_unicomer.py while its
# Unicomer simulator runs: the Unicomer provider in test mode pointed at the simulator
# (its sandbox credentials, a default collection point), US dollars active, no token on
# file (the first look-up logs in), and a cashier user with only the cashier's group;
# commits, and writes the cashier's login and password as JSON to BENCH_OUTPUT.
import json
import os
import secrets

from odoo import Command

from odoo.addons.payment_latam.simulators.unicomer import (
    SANDBOX_IDCOMMERCE,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
)

env = env  # noqa: F821 - provided by odoo-bin shell

provider = env.ref("payment_latam.payment_provider_unicomer")
provider.write(
    {
        "state": "test",
        "unicomer_test_api_url": os.environ["BENCH_SIMULATOR_URL"],
        "unicomer_test_username": SANDBOX_USERNAME,
        "unicomer_test_password": SANDBOX_PASSWORD,
        "unicomer_test_idcommerce": SANDBOX_IDCOMMERCE,
        "unicomer_default_locality": "MATRIZ CUENCA",
    }
)
env.ref("base.USD").active = True
# A token left by an earlier run names another simulator: start without one.
env.cr.execute("DELETE FROM payment_unicomer_token WHERE provider_id = %s", [provider.id])

run = secrets.token_hex(3)  # logins stay unique if the database is reused
login = f"bench_cashier_{run}"
password = secrets.token_urlsafe(18)
env["res.users"].with_context(no_reset_password=True).create(
    {
        "name": "Cajera Bench",
        "login": login,
        "password": password,
        "groups_id": [
            Command.set(
                [
                    env.ref("base.group_user").id,
                    env.ref("payment_latam.group_unicomer_cashier").id,
                ]
            )
        ],
    }
)
env.cr.commit()
with open(os.environ["BENCH_OUTPUT"], "w", encoding="utf-8") as output:
    json.dump({"login": login, "password": password}, output)
