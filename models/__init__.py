from . import payment_provider, payment_token, payment_transaction, payment_webpay_store
