{
    "name": "Payment Providers LatAm: eCommerce",
    "version": "18.0.1.0.0",
    "category": "Website/Website",
    "summary": "Shows the Webpay voucher on the shop's order confirmation page.",
    "author": "payment_latam developers",
    "license": "LGPL-3",
    "icon": "/payment_latam/static/description/icon.png",
    "depends": ["payment_latam", "website_sale"],
    "data": [
        "views/payment_provider_views.xml",
        "views/website_sale_templates.xml",
    ],
    "auto_install": True,
    "installable": True,
}
