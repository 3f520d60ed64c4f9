"""Keep tokens that travel in URLs out of the HTTP access log.

ETpay sends the payer back with `?jwt=…` (the JWT carries the payer's RUT),
Caja Vecina's webservice may hide behind a secret path segment, and werkzeug
logs every request line whole. This filter masks such parameters in
werkzeug's records before any handler formats them.
"""

import logging
import re

_SECRET_PARAMETERS = re.compile(r"(\b(?:jwt|token_ws|TBK_TOKEN)=)[^&\s\"]+")
# Caja Vecina's secret path segment: /bancoestado/<secret>/web/
_SECRET_PATH = re.compile(r"(/bancoestado/)(?!web/)[^/\s]+(/web)")


def redact(text):
    return _SECRET_PATH.sub(r"\1[redacted]\2", _SECRET_PARAMETERS.sub(r"\1[redacted]", text))


class UrlSecretsFilter(logging.Filter):
    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def install(logger_name="werkzeug"):
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, UrlSecretsFilter) for existing in logger.filters):
        logger.addFilter(UrlSecretsFilter())
