# Inbound routes: each module parses, verifies and hands the data to the models.
from . import webpay
