/** @odoo-module **/

import { registry } from "@web/core/registry";
import { reachPaymentAsChileanShopper } from "@payment_latam/../tests/tours/chilean_checkout";

// A shopper with a Chilean address reaches the payment step of a CLP order
// and is offered the three Chilean channels, and not Unicomer.
registry.category("web_tour.tours").add("payment_latam_checkout_offers_chilean_channels", {
    url: "/shop?search=Polera",
    steps: () => [
        ...reachPaymentAsChileanShopper(),
        {
            content: "Webpay is offered",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="webpay"]',
        },
        {
            content: "ETpay is offered",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="etpay"]',
        },
        {
            content: "Caja Vecina is offered",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="cajavecina"]',
        },
        {
            content: "Unicomer, a back-office channel, is not",
            trigger: 'body:not(:has(input[data-payment-method-code="unicomer"]))',
        },
    ],
});
