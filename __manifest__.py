{
    "name": "Payment Providers: Chile and Ecuador (Webpay, ETpay, Caja Vecina, Unicomer)",
    "version": "18.0.1.0.0",
    "category": "Accounting/Payment Providers",
    "sequence": 350,
    "summary": "Collect payments through Transbank Webpay, ETpay, BancoEstado Caja Vecina "
    "and Unicomer collections, reconciled in Odoo.",
    "description": " ",  # non-empty so Odoo does not render README.md as the description
    "author": "payment_latam developers",
    "license": "LGPL-3",
    "depends": ["payment", "account_payment"],
    "external_dependencies": {"python": ["python-stdnum"]},
    "data": [
        "security/unicomer_security.xml",
        "security/ir.model.access.csv",
        "views/payment_provider_views.xml",
        "views/payment_webpay_templates.xml",
        "views/payment_etpay_templates.xml",
        "views/payment_cajavecina_templates.xml",
        "views/cajavecina_exchange_views.xml",
        "views/payment_transaction_views.xml",
        "views/payment_status_templates.xml",
        "wizards/unicomer_cashier_views.xml",
        "views/unicomer_transaction_views.xml",
        "views/unicomer_exchange_views.xml",
        "report/unicomer_receipt_report.xml",
        "views/unicomer_conciliation_views.xml",
        "views/unicomer_menus.xml",
        "views/latam_reconciliation_views.xml",
        "data/payment_method_data.xml",
        "data/payment_provider_data.xml",  # needs the payment methods and redirect forms above
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "data/unicomer_data.xml",
        "data/unicomer_conciliation_cron.xml",
        "data/latam_reconciliation_cron.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "payment_latam/static/src/js/**/*",
        ],
        "web.assets_tests": [
            "payment_latam/static/tests/tours/**/*",
        ],
    },
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
