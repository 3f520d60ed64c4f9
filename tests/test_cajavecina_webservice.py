import base64

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.misc import format_date

from odoo.addons.payment_latam.simulators.bancoestado_client import build_envelope
from odoo.addons.payment_latam.tests.cajavecina_common import (
    CLIENT_RUT,
    OTHER_RUT,
    CajaVecinaCommon,
)

CONTROLLER = "odoo.addons.payment_latam.controllers.bancoestado"


@tagged("post_install", "-at_install", "payment_latam", "cajavecina")
class TestCajaVecinaConsult(CajaVecinaCommon):
    def test_the_wsdl_describes_both_operations_at_this_address(self):
        for query in ("wsdl", "wdsll"):
            response = self.url_open(self._build_url(f"/bancoestado/web/?{query}"))
            self.assertEqual(response.status_code, 200)
            self.assertIn("consultarCliente", response.text)
            self.assertIn('name="registrarPago"', response.text)
            self.assertIn(self._build_url("/bancoestado/web/"), response.text)

    def test_the_oldest_open_invoice_is_offered(self):
        older = self._invoice(12990, due=self._date("2026-11-10"))
        self._invoice(20000, due=self._date("2026-12-10"))
        answer = self._consult()
        self.assertEqual(answer.http_status, 200)
        self.assertEqual(answer.error_code, 0)
        self.assertEqual(answer.respuesta["TOTAL"], "12990")
        self.assertEqual(answer.respuesta["FECHA_VENCIMIENTO"], "2026-11-10")
        self.assertEqual(answer.respuesta["RUT_CLIENTE"], "760864285")
        self.assertEqual(answer.respuesta["ID_CLIENTE"], str(self.partner.id).zfill(6))
        (exchange,) = self._exchanges()
        self.assertEqual(
            (exchange.operation, exchange.rut, exchange.result, exchange.amount),
            ("consultarCliente", "760864285", "ok", 12990),
        )
        self.assertIn("<rutCliente", exchange.request_body)
        self.assertIn("RESPUESTA", exchange.response_body)
        self.assertEqual(exchange.document, self._factura(older))

    def test_total_debt_mode_adds_every_open_document(self):
        self.provider.cajavecina_debt_mode = "total"
        self._invoice(12990)
        self._invoice(20000)
        self._invoice(5000, partner=self.other_partner)
        self.assertEqual(self._consult().respuesta["TOTAL"], "32990")

    def test_every_dialect_and_both_response_modes_are_understood(self):
        self._invoice(15990)
        for mode in ("escaped", "inline"):
            self.provider.cajavecina_response_mode = mode
            for style in ("rpc", "document", "bare"):
                for version in ("1.1", "1.2"):
                    with self.subTest(mode=mode, style=style, version=version):
                        answer = self._consult(style=style, soap_version=version)
                        self.assertEqual(answer.error_code, 0, answer.raw)
                        self.assertEqual(answer.respuesta["TOTAL"], "15990")

    def test_the_answer_is_nusoap_shaped(self):
        self._invoice(15990)
        raw = self._consult().raw.decode()
        self.assertRegex(raw, r"<ns1:consultarClienteResponse[^>]*>")
        self.assertIn('<return xsi:type="xsd:string">&lt;RESPUESTA&gt;', raw)

    def test_nothing_to_pay_and_unknown_or_invalid_ruts(self):
        self.assertEqual(self._consult().error_code, 2)
        self.assertEqual(self._consult(rut="12.531.909-2").error_code, 3)  # valid, unknown
        answer = self._consult(rut="76086428-4")  # wrong check digit
        self.assertEqual(answer.error_code, 3)
        self.assertIn("verificador", answer.respuesta["DESCRIPCION_ERROR"])

    def test_paid_and_foreign_invoices_are_not_offered(self):
        self._invoice(5000, partner=self.other_partner)
        self.assertEqual(self._consult().error_code, 2)
        self.assertEqual(self._consult(rut=OTHER_RUT).respuesta["TOTAL"], "5000")

    @staticmethod
    def _date(text):
        from datetime import date

        return date.fromisoformat(text)


@tagged("post_install", "-at_install", "payment_latam", "cajavecina")
class TestCajaVecinaPayment(CajaVecinaCommon):
    def setUp(self):
        # Odoo's real booking and reconciliation (PaymentCommon patches it out).
        self.enable_post_process_patcher = False
        super().setUp()

    def _payments_of(self, invoice):
        return self.env["payment.transaction"].search([("invoice_ids", "in", invoice.ids)])

    def test_an_exact_payment_pays_and_reconciles_the_invoice(self):
        invoice = self._invoice(15990)
        answer = self._pay(self._factura(invoice), 15990)
        self.assertTrue(answer.accepted, answer.raw)
        self.assertEqual(answer.respuesta["MENSAJE"], "Pago registrado correctamente")
        self.assertEqual(answer.respuesta["RUT_CLIENTE"], "760864285")
        self.assertRegex(
            answer.respuesta["FECHA_ENVIO"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[34]:00$"
        )
        tx = self._payments_of(invoice)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.cajavecina_payment_key, "594012")
        self.assertEqual(tx.cajavecina_channel, "oficina")
        self.assertTrue(tx.payment_id, "Odoo booked the payment")
        self.assertEqual(tx.payment_id.journal_id, self.provider.journal_id)
        self.assertEqual(invoice.amount_residual, 0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        exchange = self._exchanges()[-1]
        self.assertEqual((exchange.transaction_id, exchange.result), (tx, "ok"))

    def test_a_shop_order_waits_pending_then_the_bank_settles_it(self):
        tx = self._create_transaction("redirect", reference="CV-SHOP-1")
        form = self._extract_values_from_html_form(
            tx._get_processing_values()["redirect_form_html"]
        )
        self.assertTrue(form["action"].endswith("/payment/cajavecina/process"))
        self._make_http_post_request(self._build_url("/payment/cajavecina/process"), form["inputs"])
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx._cajavecina_payer_rut(), CLIENT_RUT)
        (mail,) = self.env["mail.mail"].search(
            [("model", "=", "payment.transaction"), ("res_id", "=", tx.id)]
        )
        self.assertIn(self.partner, mail.recipient_ids)
        due = format_date(self.env, tx.cajavecina_due_date, lang_code=tx.partner_lang)
        for shown in (CLIENT_RUT, "CV-SHOP-1", due):
            self.assertIn(shown, mail.body_html)
        consult = self._consult()
        self.assertEqual(consult.respuesta["TOTAL"], "15990")
        self.assertEqual(consult.respuesta["FECHA_VENCIMIENTO"], tx.cajavecina_due_date.isoformat())
        self.assertEqual(self._factura(tx), str(90_000_000 + tx.id))
        self.assertTrue(self._pay(self._factura(tx), 15990).accepted)
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.payment_id)
        self.assertEqual(self._consult().error_code, 2)

    def test_a_bank_sending_back_the_client_id_pays_the_document_it_was_offered(self):
        invoice = self._invoice(15990)
        self._invoice(20000, due=self._date("2026-12-31"))
        consult = self._consult()
        client_id = consult.respuesta["ID_CLIENTE"].zfill(8)
        self.assertEqual(self._pay(client_id, 15990).error_code, 2, "off by default")
        self.provider.cajavecina_client_id_as_document = True
        answer = self._pay(client_id, int(consult.respuesta["TOTAL"]), transaccion="700")
        self.assertTrue(answer.accepted, answer.raw)
        self.assertEqual(invoice.amount_residual, 0)
        again = self._pay(client_id, 15990, transaccion="700")
        self.assertEqual(again.respuesta, answer.respuesta, "a resend is the same payment")
        without_number = self._pay(client_id, 20000, transaccion=None)
        self.assertEqual(without_number.error_code, 1, "two such payments could share a key")
        self.assertIn("transaccion", without_number.respuesta["DESCRIPCION_ERROR"])

    def test_in_total_debt_mode_the_bank_pays_the_total_it_was_given(self):
        self.provider.write(
            {"cajavecina_debt_mode": "total", "cajavecina_client_id_as_document": True}
        )
        first, second = self._invoice(12990), self._invoice(20000, due=self._date("2026-12-31"))
        consult = self._consult()
        client_id = consult.respuesta["ID_CLIENTE"].zfill(8)
        self.assertEqual(consult.respuesta["TOTAL"], "32990")
        self.assertEqual(self._pay(client_id, 32000, transaccion="801").error_code, 1)
        self.assertEqual(self._pay(client_id, 32990, transaccion=None).error_code, 1)
        self.assertEqual((first.amount_residual, second.amount_residual), (12990, 20000))

        answer = self._pay(client_id, 32990, transaccion="802")
        self.assertTrue(answer.accepted, answer.raw)
        self.assertEqual((first.amount_residual, second.amount_residual), (0, 0))
        self.assertEqual(len(self._payments_of(first | second).payment_id), 2)
        again = self._pay(client_id, 32990, transaccion="802")
        self.assertEqual(again.respuesta, answer.respuesta, "a resend is the same payment")
        self.assertEqual(len(self._payments_of(first | second)), 2)
        self.assertEqual(self._consult().error_code, 2)

    def test_a_partial_payment_needs_the_bank_transaction_number(self):
        self.provider.cajavecina_amount_policy = "partial"
        invoice = self._invoice(15990)
        self.assertEqual(self._pay(self._factura(invoice), 5000, transaccion=None).error_code, 1)
        self.assertEqual(invoice.amount_residual, 15990)

    def test_an_overdue_cash_payment_is_cancelled_and_no_longer_offered(self):
        tx = self._create_transaction("redirect", reference="CV-LATE-1", state="pending")
        self.assertEqual(self._consult().error_code, 0)
        self._age(tx, minutes=60 * 24 * (self.provider.cajavecina_due_days + 2))
        tx.invalidate_recordset(["cajavecina_due_date"])
        self.env["payment.transaction"]._cron_cajavecina_cancel_overdue()
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(self._consult().error_code, 2)

    @staticmethod
    def _date(text):
        from datetime import date

        return date.fromisoformat(text)

    def test_a_shopper_without_a_valid_rut_is_asked_for_one(self):
        self.partner.vat = "76086428-4"
        tx = self._create_transaction("redirect", reference="CV-SHOP-2")
        with self.assertRaisesRegex(ValidationError, "add a valid RUT"):
            tx._get_processing_values()

    def test_a_replayed_transaction_gets_the_original_answer_and_books_nothing(self):
        invoice = self._invoice(15990)
        first = self._pay(self._factura(invoice), 15990)
        again = self._pay(self._factura(invoice), 15990)
        self.assertTrue(again.accepted)
        self.assertEqual(again.respuesta, first.respuesta, "the very same answer")
        self.assertEqual(len(self._payments_of(invoice)), 1)
        self.assertEqual(len(self._payments_of(invoice).payment_id), 1)

    def test_a_transaction_number_reused_for_other_data_is_refused(self):
        invoice = self._invoice(15990)
        other = self._invoice(12990)
        self._pay(self._factura(invoice), 15990)
        with mute_logger("odoo.addons.payment_latam.models.cajavecina_service"):
            answer = self._pay(self._factura(other), 12990)
        self.assertEqual(answer.error_code, 1)
        self.assertFalse(self._payments_of(other))
        self.assertEqual(other.amount_residual, 12990)

    def test_without_transaction_number_a_same_day_resend_is_the_same_payment(self):
        invoice = self._invoice(15990)
        first = self._pay(self._factura(invoice), 15990, transaccion=None)
        again = self._pay(self._factura(invoice), 15990, transaccion=None)
        self.assertTrue(first.accepted and again.accepted)
        self.assertEqual(len(self._payments_of(invoice)), 1)
        self.assertTrue(
            self._payments_of(invoice).cajavecina_payment_key.startswith("sin-transaccion:")
        )

    def test_amounts_other_than_the_balance_are_refused_and_change_nothing(self):
        invoice = self._invoice(15990)
        for monto, code in (("15000", 1), ("16000", 1), ("abc", 1), ("0", 1), ("15990.5", 1)):
            with self.subTest(monto=monto):
                answer = self._pay(self._factura(invoice), monto, transaccion=None)
                self.assertEqual(answer.error_code, code, answer.raw)
        self.assertFalse(self._payments_of(invoice))
        self.assertEqual(invoice.amount_residual, 15990)

    def test_partial_payments_when_allowed_but_never_an_overpayment(self):
        self.provider.cajavecina_amount_policy = "partial"
        invoice = self._invoice(15990)
        self.assertEqual(self._pay(self._factura(invoice), 16000, transaccion="1").error_code, 1)
        self.assertTrue(self._pay(self._factura(invoice), 10000, transaccion="2").accepted)
        self.assertEqual(invoice.amount_residual, 5990)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(self._consult().respuesta["TOTAL"], "5990")

    def test_someone_elses_or_a_paid_invoice_is_nothing_to_pay(self):
        foreign = self._invoice(5000, partner=self.other_partner)
        self.assertEqual(self._pay(self._factura(foreign), 5000).error_code, 2)
        invoice = self._invoice(15990)
        self.assertTrue(self._pay(self._factura(invoice), 15990, transaccion="10").accepted)
        self.assertEqual(self._pay(self._factura(invoice), 15990, transaccion="11").error_code, 2)
        self.assertEqual(self._pay("99999999", 15990, transaccion="12").error_code, 2)

    def test_missing_or_oversized_parts_are_a_clear_code_1(self):
        invoice = self._invoice(15990)
        bank = self._bank()
        answer = self._as_bank(bank.call, "registrarPago", rutCliente="760864285", monto="15990")
        self.assertEqual(answer.error_code, 1)
        self.assertIn("factura", answer.respuesta["DESCRIPCION_ERROR"])
        answer = self._as_bank(
            bank.call,
            "registrarPago",
            rutCliente="760864285",
            factura=self._factura(invoice),
            monto="15990",
            transaccion="9" * 40,
        )
        self.assertEqual(answer.error_code, 1)
        self.assertFalse(self._payments_of(invoice))


@tagged("post_install", "-at_install", "payment_latam", "cajavecina")
class TestCajaVecinaHostileInput(CajaVecinaCommon):
    """Malformed and hostile XML: a SOAP Fault, a log line, no state change."""

    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(15990)

    def _post(self, body, content_type="text/xml; charset=utf-8"):
        with mute_logger(CONTROLLER):
            return self._as_bank(self._bank().post_raw, body, content_type)

    def _assert_fault(self, response, status=500):
        self.assertEqual(response.status_code, status, response.text)
        self.assertIn("Fault", response.text)
        self.assertNotIn("Traceback", response.text)
        self.assertEqual(self._exchanges()[-1].result, "fault")
        self.assertFalse(
            self.env["payment.transaction"].search([("provider_id", "=", self.provider.id)])
        )
        self.assertEqual(self.invoice.amount_residual, 15990)

    def test_malformed_xml(self):
        self._assert_fault(self._post(b"<soap:Envelope><soap:Body><consultarCliente>"))

    def test_an_unknown_operation(self):
        self._assert_fault(self._post(build_envelope("borrarTodo", {"rutCliente": "1"})))

    def test_external_entities_are_never_resolved(self):
        xxe = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<consultarCliente><rutCliente>&xxe;</rutCliente></consultarCliente>"""
        response = self._post(xxe)
        self._assert_fault(response)
        self.assertNotIn("root:", response.text)

    def test_entity_expansion_bombs_are_refused(self):
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(
                b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                for i in range(1, 10)
            )
            + b"]><consultarCliente><rutCliente>&lol9;</rutCliente></consultarCliente>"
        )
        self._assert_fault(self._post(bomb))

    def test_a_dtd_in_utf16_is_refused_too(self):
        xxe = (
            '<?xml version="1.0" encoding="UTF-16"?>'
            '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "<registrarPago><rutCliente>760864285</rutCliente><factura>&x;</factura>"
            "<monto>15990</monto></registrarPago>"
        ).encode("utf-16")
        self._assert_fault(self._post(xxe))

    def test_an_oversized_request(self):
        body = build_envelope("consultarCliente", {"rutCliente": "7" * 100_000})
        self._assert_fault(self._post(body))


@tagged("post_install", "-at_install", "payment_latam", "cajavecina")
class TestCajaVecinaCallerAccess(CajaVecinaCommon):
    def test_a_webservice_that_knows_no_caller_answers_nobody(self):
        self._invoice(15990)
        self.provider.cajavecina_allowed_ips = False
        with mute_logger(CONTROLLER):
            answer = self._consult()
        self.assertEqual(answer.http_status, 403)
        with self.assertRaisesRegex(ValidationError, "allowed caller addresses"):
            self.provider.state = "enabled"

    def test_an_address_outside_the_allowlist_is_denied_and_logged(self):
        self._invoice(15990)
        self.provider.cajavecina_allowed_ips = "200.14.0.0/16"
        with mute_logger(CONTROLLER):
            answer = self._consult()
        self.assertEqual(answer.http_status, 403)
        self.assertEqual(self._exchanges()[-1].result, "denied")

    def test_forwarded_addresses_count_only_behind_a_trusted_proxy(self):
        self._invoice(15990)
        self.provider.cajavecina_allowed_ips = "200.14.0.0/16"
        forwarded = {"X-Forwarded-For": "200.14.8.9"}
        with mute_logger(CONTROLLER):
            self.assertEqual(self._consult(headers=forwarded).http_status, 403)
        self.provider.cajavecina_trusted_proxies = "127.0.0.1"
        answer = self._consult(headers=forwarded)
        self.assertEqual(answer.error_code, 0)
        self.assertEqual(self._exchanges()[-1].source_ip, "200.14.8.9")

    def test_basic_auth_when_configured(self):
        self._invoice(15990)
        self.provider.write(
            {
                "cajavecina_basic_auth_user": "bancoestado",
                "cajavecina_basic_auth_password": "s3creto",
            }
        )
        with mute_logger(CONTROLLER):
            self.assertEqual(self._consult().http_status, 401)
            self.assertEqual(self._consult(auth=("bancoestado", "otra")).http_status, 401)
        self.assertEqual(self._consult(auth=("bancoestado", "s3creto")).error_code, 0)

    def test_a_secret_path_hides_the_public_one(self):
        self._invoice(15990)
        self.provider.cajavecina_path_secret = "k8f2x"
        self.assertEqual(self._consult().http_status, 404)
        answer = self._consult(path="/bancoestado/k8f2x/web/index.php")
        self.assertEqual(answer.error_code, 0)
        self.assertIn("/bancoestado/k8f2x/web/", self.provider.cajavecina_webservice_url)
        from odoo.addons.payment_latam.controllers.log_redaction import redact

        line = redact('"POST /bancoestado/k8f2x/web/index.php HTTP/1.1" 200')
        self.assertNotIn("k8f2x", line, "the access log never shows the secret")

    def test_the_basic_auth_check_is_exact(self):
        from odoo.addons.payment_latam.gateways.caller_access import basic_auth_matches

        def header(text):
            return "Basic " + base64.b64encode(text.encode()).decode()

        self.assertTrue(basic_auth_matches(header("a:b:c"), "a", "b:c"))
        self.assertFalse(basic_auth_matches(header("a:b"), "a", "b:c"))
        self.assertFalse(basic_auth_matches("Basic !!!", "a", "b"))
