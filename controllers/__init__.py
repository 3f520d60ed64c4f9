# Inbound routes: each module parses, verifies and hands the data to the models.
from . import bancoestado, cajavecina_checkout, etpay, log_redaction, webpay, webpay_soap

log_redaction.install()
