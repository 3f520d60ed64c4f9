from . import payment_provider, payment_token, payment_transaction
