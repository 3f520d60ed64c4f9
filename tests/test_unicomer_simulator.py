import json
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from email.utils import parsedate_to_datetime

import requests
from stdnum.ec import ci, ruc

from odoo.tests import BaseCase, tagged

from odoo.addons.payment_latam.simulators.harness import CONTROL_PATH
from odoo.addons.payment_latam.simulators.unicomer import (
    DEMO_CUSTOMERS,
    SANDBOX_IDCOMMERCE,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    SYNC_DELAY,
    TOKEN_LIFETIME,
    UnicomerSimulator,
)

TIMEOUT = 5  # seconds
FCH = "2024-05-10 10:15:00.000"
RFC1123 = r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$"
SPEC_FACTURA_KEYS = [
    "id", "factura", "operacion", "cliente", "credito_fch", "credito_valor", "item_cant",
    "item_desc", "factura_full", "credito_cuota", "credito_plazo", "prox_fecvto", "dias_mora",
    "cuotas_pagadas", "cuotas_pendientes", "cuotas_vencidas", "monto_vencido", "recargo_gasto",
    "interes_mora", "valor_pagar", "deuda_tot_sinpro", "deuda_tot_conpro", "tiene_inicial",
    "tiene_mora", "porc_comision", "cadena",
]  # fmt: skip


def parse(response):
    return json.loads(response.text, parse_float=Decimal)


@tagged("post_install", "-at_install", "payment_latam", "simulators")
class TestUnicomerSimulator(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gateway = UnicomerSimulator().start()
        cls.addClassCleanup(cls.gateway.stop)

    def setUp(self):
        super().setUp()
        self.gateway.reset()
        self.bearer = self.grant().json()["access_token"]

    def grant(self, password=SANDBOX_PASSWORD):
        form = {"username": SANDBOX_USERNAME, "password": password, "grant_type": "password"}
        return requests.post(f"{self.gateway.url}/token", data=form, timeout=TIMEOUT)

    def api(self, name, payload, form=False, token=None):
        body = {"data": payload} if form else {"json": payload}
        return requests.post(
            f"{self.gateway.url}/api/recaudadores/{name}",
            headers={"Authorization": f"Bearer {token or self.bearer}"},
            timeout=TIMEOUT,
            **body,
        )

    def register(self, path="registrarpago", **fields):
        payload = {
            "secuencial": 228085,
            "idcommerce": SANDBOX_IDCOMMERCE,
            "fch_proceso": FCH,
            "val_pagado": 100.25,
            "localidad_recauda": "MALL DEL SOL",
            "nombre_cajero": "EDISON BRAVO",
            "num_recibo": "R-0001",
            **fields,
        }
        return self.api(path, payload)

    def key(self, secuencial, val_pagado=100.25, fch=FCH):
        return {
            "secuencial": secuencial,
            "idcommerce": SANDBOX_IDCOMMERCE,
            "fch_proceso": fch,
            "val_pagado": val_pagado,
        }

    def credit(self, cliente, credit_id):
        body = parse(self.api("estadocuenta", {"cliente": cliente, "idcommerce": "DEMO01"}))
        return next(f for f in body["data"]["estado_cuenta"]["facturas"] if f["id"] == credit_id)

    def assert_error(self, response, status):
        self.assertEqual(response.status_code, 200)
        with self.assertRaises(json.JSONDecodeError):  # the spec's trailing comma
            json.loads(response.text)
        self.assertRegex(response.text, rf'^\{{ "status": "{status}", "msg": "[^"]+", \}}$')

    def test_token_grant_refusal_and_expiry(self):
        body = self.grant().json()
        self.assertEqual(body["token_type"], "bearer")
        self.assertEqual(body["expires_in"], TOKEN_LIFETIME)
        self.assertEqual(body["userName"], SANDBOX_USERNAME)
        self.assertRegex(body[".issued"], RFC1123)
        lifetime = parsedate_to_datetime(body[".expires"]) - parsedate_to_datetime(body[".issued"])
        self.assertEqual(lifetime.total_seconds(), TOKEN_LIFETIME)
        refused = self.grant(password="wrong")
        self.assertEqual(refused.status_code, 400)
        self.assertEqual(refused.json()["error"], "invalid_grant")
        self.assertEqual(self.gateway.logins, 2)
        denied = {"Message": "Authorization has been denied for this request."}
        answer = self.api("estadocuenta", {"cliente": "0101690808", "idcommerce": "DEMO01"})
        self.assertEqual(answer.status_code, 200)
        self.gateway.expire_tokens()
        answer = self.api("estadocuenta", {"cliente": "0101690808", "idcommerce": "DEMO01"})
        self.assertEqual((answer.status_code, answer.json()), (401, denied))
        fresh = self.grant().json()["access_token"]
        self.assertEqual(self.api("conciliacion", {}, token=fresh).status_code, 200)
        self.gateway.clock.advance(TOKEN_LIFETIME + 1)
        self.assertEqual(self.api("conciliacion", {}, token=fresh).status_code, 401)
        self.assertEqual(self.api("conciliacion", {}, token="forged").status_code, 401)

    def test_statement_reproduces_the_spec_sample(self):
        self.assertTrue(all(ci.is_valid(c) or ruc.is_valid(c) for c in DEMO_CUSTOMERS))
        self.assertEqual(DEMO_CUSTOMERS["0101690808"], "LUIS ALBERTO DELEG")
        response = self.api("estadocuenta", {"cliente": "0101690808", "idcommerce": "DEMO01"})
        self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        body = parse(response)
        self.assertEqual((body["status"], body["msg"]), (0, "OK"))
        account = body["data"]["estado_cuenta"]
        self.assertEqual(account["datosCliente"]["cl_apellidos"], "DELEG")
        self.assertEqual(account["telefonos"], [{"telefono": "0967761447"}])
        first, second = account["facturas"]
        self.assertEqual(list(first), SPEC_FACTURA_KEYS)
        self.assertEqual((first["id"], second["id"]), (228085, 228086))
        self.assertEqual(first["valor_pagar"], Decimal("352.70"))
        self.assertEqual(second["deuda_tot_conpro"], Decimal("1119.30"))
        for text in ('"operacion": 57266.0', '"porc_comision": 0.00', '"credito_valor": 831.60'):
            self.assertIn(text, response.text)
        others = {
            cliente: parse(self.api("estadocuenta", {"cliente": cliente, "idcommerce": "DEMO01"}))
            for cliente in DEMO_CUSTOMERS
        }
        commissions = [
            f["porc_comision"]
            for body in others.values()
            for f in body["data"]["estado_cuenta"]["facturas"]
        ]
        self.assertIn(Decimal("2.50"), commissions)
        empty = [b for b in others.values() if not b["data"]["estado_cuenta"]["facturas"]]
        self.assertEqual([b["status"] for b in empty], [0])
        unknown = self.api("estadocuenta", {"cliente": "0101690809", "idcommerce": "DEMO01"})
        self.assert_error(unknown, "451")
        self.gateway.quirky_json = False
        unknown = self.api("estadocuenta", {"cliente": "0101690809", "idcommerce": "DEMO01"})
        self.assertEqual(unknown.json()["status"], "451")
        wrong = self.api("estadocuenta", {"cliente": "0101690808", "idcommerce": "EMP99"})
        self.assertEqual(wrong.json()["status"], "458")
        self.assertEqual(
            self.api("estadocuenta", {"cliente": "0101690808"}, form=True).status_code, 415
        )

    def test_register_validates_and_refuses_duplicates(self):
        first = parse(self.register())
        self.assertEqual(first["status"], 0)
        self.assertIsInstance(first["data"]["idtrx"], int)
        spelled = parse(self.register(path="registrar%20pago", num_recibo="R-0002"))
        self.assertGreater(spelled["data"]["idtrx"], first["data"]["idtrx"])
        spaced = parse(self.register(path="registrar pago", num_recibo="R-0003"))
        self.assertGreater(spaced["data"]["idtrx"], spelled["data"]["idtrx"])
        self.assert_error(self.register(val_pagado=5), "452")
        refusals = {
            "453": {"secuencial": 999999},
            "454": {"val_pagado": 0},
            "455": {"val_pagado": 190.56},  # 491.30 - 3 x 100.25 + 0.01
            "456": {"fch_proceso": "10-05-2024 10:15"},
            "457": {"nombre_cajero": ""},
            "458": {"idcommerce": "EMP99"},
        }
        for code, fields in refusals.items():
            with self.subTest(code=code):
                self.assert_error(self.register(num_recibo=f"X-{code}", **fields), code)
        payments = self.gateway.payments
        self.assertEqual([p["num_recibo"] for p in payments], ["R-0001", "R-0002", "R-0003"])
        self.assertEqual(payments[0]["val_pagado"], Decimal("100.25"))
        self.assertEqual(payments[0]["state"], 0)
        credit = self.credit("0101690808", 228085)
        self.assertEqual(credit["valor_pagar"], Decimal("51.95"))
        self.assertEqual(credit["deuda_tot_conpro"], Decimal("190.55"))
        self.assertEqual(credit["monto_vencido"], Decimal("49.60"))

    def test_parallel_duplicates_register_once(self):
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: self.register(num_recibo="R-PAR"), range(8)))
        codes = sorted(re.search(r'"status": "?(\d+)', a.text).group(1) for a in answers)
        self.assertEqual(codes, ["0"] + ["452"] * 7)
        self.assertEqual(len(self.gateway.payments), 1)

    def test_sync_window_reversal_and_consult(self):
        idtrx = parse(self.register())["data"]["idtrx"]
        consulted = parse(self.api("consultarpago", self.key(idtrx)))
        self.assertEqual(consulted["msg"], "ok")
        self.assertEqual(consulted["data"], {
            "idtrx": idtrx, "cod_status": 0, "det_status": "Registrado", "num_recibo": "R-0001",
        })  # fmt: skip
        self.assertEqual(self.api("reversapago", self.key(idtrx, 100.26)).json()["status"], "-1")
        reversed_ = self.api("reversapago", self.key(idtrx, "100.25", FCH[:19]), form=True).json()
        self.assertEqual(reversed_, {"status": "0", "msg": "OK", "data": {"num_recibo": "R-0001"}})
        self.assertEqual(self.credit("0101690808", 228085)["valor_pagar"], Decimal("352.70"))
        by_credit = parse(self.api("consultarpago", self.key(228085), form=True))["data"]
        self.assertEqual((by_credit["idtrx"], by_credit["cod_status"]), (idtrx, 4))
        self.assertEqual(by_credit["det_status"], "Reversado")

        later = parse(self.register(num_recibo="R-0002", val_pagado=10))["data"]["idtrx"]
        self.gateway.clock.advance(SYNC_DELAY)
        synced = parse(self.api("consultarpago", self.key(later, 10)))["data"]
        self.assertEqual((synced["cod_status"], synced["det_status"]), (1, "Sincronizado"))
        refused = self.api("reversapago", self.key(later, 10))
        self.assertEqual(refused.json(), {"status": "-1", "msg": "No es posible revertir el pago"})
        self.gateway.reversal_error_code = "666"
        self.assert_error(self.api("reversapago", self.key(later, 10)), "666")
        self.assertEqual(self.gateway.payment("R-0002")["state"], 1)
        missing = parse(self.api("consultarpago", self.key(228086)))
        self.assertEqual(missing["status"], 0)
        self.assertEqual(missing["data"], {
            "idtrx": 0, "cod_status": -1, "det_status": "No existe", "num_recibo": "",
        })  # fmt: skip

    def test_content_types_per_path(self):
        self.register()
        self.assertEqual(self.api("consultarpago", self.key(228085), form=True).status_code, 200)
        self.gateway.json_only_paths = {"consultarpago"}
        answer = self.api("consultarpago", self.key(228085), form=True)
        self.assertEqual(answer.status_code, 415)
        self.assertIn("Message", answer.json())
        self.assertEqual(self.api("consultarpago", self.key(228085)).status_code, 200)
        self.gateway.form_only_paths = {"conciliacion"}
        query = {"fecha": "2024-05-10", "idcommerce": "DEMO01", "estado": 0}
        self.assertEqual(self.api("conciliacion", query).status_code, 415)
        self.assertEqual(len(parse(self.api("conciliacion", query, form=True))["data"]), 1)

    def test_conciliation_dates_states_and_test_hooks(self):
        self.register()
        second = parse(self.register(num_recibo="R-0002", secuencial=228301, val_pagado=20))
        self.register(num_recibo="R-0003", fch_proceso="2024-05-11 09:00:00")
        self.api("reversapago", self.key(second["data"]["idtrx"], 20))
        foreign = self.gateway.add_foreign_payment(228086, "15.00", fch_proceso=FCH)
        self.gateway.alter_payment("R-0001", val_pagado=Decimal("9.99"))
        self.gateway.clock.advance(SYNC_DELAY)

        def rows(fecha, estado=0):
            query = {"fecha": fecha, "idcommerce": SANDBOX_IDCOMMERCE, "estado": estado}
            return parse(self.api("conciliacion", query))["data"]

        every = rows("2024-05-10")
        self.assertEqual(rows("10-05-2024"), every)
        self.assertEqual(
            [r["num_recibo"] for r in every], ["R-0001", "R-0002", foreign["num_recibo"]]
        )
        self.assertEqual(list(every[0]), [
            "comercio", "secuencial", "idtrx", "fch_proceso", "fch_registro", "val_pagado",
            "num_recibo", "estado", "estado_desc",
        ])  # fmt: skip
        self.assertEqual(every[0]["fch_proceso"], "2024-05-10 10:15:00")
        self.assertRegex(every[0]["fch_registro"], r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
        self.assertEqual(
            (every[0]["secuencial"], every[0]["val_pagado"]), (228085, Decimal("9.99"))
        )
        self.assertEqual([r["estado"] for r in every], [1, 4, 1])
        self.assertEqual([r["num_recibo"] for r in rows("2024-05-10", 4)], ["R-0002"])
        self.assertEqual([r["num_recibo"] for r in rows("2024-05-11", 1)], ["R-0003"])
        self.gateway.force_state("R-0001", 2)
        self.assertEqual([r["num_recibo"] for r in rows("2024-05-10", 2)], ["R-0001"])
        self.gateway.conciliation_date_format = "iso"
        query = {"fecha": "10-05-2024", "idcommerce": SANDBOX_IDCOMMERCE, "estado": 0}
        self.assert_error(self.api("conciliacion", query), "451")
        self.assertIn("fecha invalida", self.api("conciliacion", query).text)

        control = f"{self.gateway.url}{CONTROL_PATH}"
        answer = requests.post(
            f"{control}/force_state", json={"num_recibo": "R-0003", "state": 99}, timeout=TIMEOUT
        )
        self.assertEqual(answer.status_code, 200)
        key = self.key(228085, 100.25, "2024-05-11 09:00:00.000")
        consulted = parse(self.api("consultarpago", key))["data"]
        self.assertEqual(
            (consulted["cod_status"], consulted["det_status"]), (99, "Problemas para sincronizar")
        )
        unknown = {"num_recibo": "NOPE", "state": 2}
        self.assertEqual(
            requests.post(f"{control}/force_state", json=unknown, timeout=TIMEOUT).status_code, 404
        )
        self.assertEqual(
            requests.post(f"{control}/expire_tokens", timeout=TIMEOUT).status_code, 200
        )
        self.assertEqual(self.api("conciliacion", query).status_code, 401)
