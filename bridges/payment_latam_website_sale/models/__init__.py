from . import payment_transaction, payment_webpay_store
