import polib

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader

from odoo.addons.payment_latam.tests.common import PaymentLatamCommon


@tagged("post_install", "-at_install", "payment_latam", "i18n")
class TestSpanishTranslations(PaymentLatamCommon):
    def test_every_term_of_the_module_is_translated_to_spanish(self):
        """Terms come from the running code and data, not from the .pot, so a stale template
        cannot hide an untranslated string."""
        terms = {
            row[4]
            for row in TranslationModuleReader(self.env.cr, modules=["payment_latam"])
            if row[0] == "payment_latam"
        }
        self.assertTrue(terms)
        spanish = {
            entry.msgid: entry.msgstr
            for entry in polib.pofile(file_path("payment_latam/i18n/es.po"))
            if entry.msgstr and not entry.fuzzy
        }
        template = {
            entry.msgid for entry in polib.pofile(file_path("payment_latam/i18n/payment_latam.pot"))
        }
        self.assertEqual(sorted(terms - set(spanish)), [], "untranslated in i18n/es.po")
        self.assertEqual(sorted(terms - template), [], "missing from the .pot: run `make pot`")

    def test_chilean_spanish_users_read_spanish(self):
        self.env["res.lang"]._activate_lang("es_CL")
        self.env["ir.module.module"]._load_module_terms(["payment_latam"], ["es_CL"])
        method = self.env.ref("payment_latam.payment_method_cajavecina").with_context(lang="es_CL")
        self.assertEqual(method.name, "Efectivo en Caja Vecina")
        with self.assertRaisesRegex(ValidationError, "faltan sus datos de producción"):
            self.webpay.with_context(lang="es_CL").state = "enabled"
