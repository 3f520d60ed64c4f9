from . import (
    account_move,
    cajavecina_exchange,
    payment_provider,
    payment_token,
    payment_transaction,
    payment_webpay_store,
    res_partner,
)
