# Inbound routes: each module parses, verifies and hands the data to the models.
from . import etpay, log_redaction, webpay

log_redaction.install()
