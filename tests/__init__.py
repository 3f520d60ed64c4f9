from . import (
    test_checkout_page,
    test_checkout_tour,
    test_credentials_access,
    test_provider_hooks,
    test_provider_records,
    test_simulator_harness,
    test_translations,
    test_webpay_after_sale,
    test_webpay_concurrency,
    test_webpay_flow,
    test_zz_uninstall,
)
