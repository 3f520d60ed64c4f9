/** @odoo-module **/

import { registry } from "@web/core/registry";
import { reachPaymentAsChileanShopper } from "@payment_latam/../tests/tours/chilean_checkout";

// The ETpay checkout, end to end. After "Pay now" the browser leaves the shop
// with a plain GET to ETpay's session page (the loopback simulator). A tour
// cannot act on a foreign page (no Odoo there, and its progress is kept in the
// shop's localStorage), so the simulator's autopilot makes the payer's decision,
// posts ETpay's webhook to Odoo and sends the browser back to
// /payment/etpay/return (or /payment/etpay/cancel); the tour resumes on the
// next shop page: /payment/status, which redirects to /shop/confirmation.
function payWithEtpay() {
    return [
        {
            content: "choose ETpay",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="etpay"]',
            run: "click",
        },
        {
            content: "pay now: off to ETpay's page, and back",
            trigger: 'button[name="o_payment_submit_button"]:contains("Pay now"):not(:disabled)',
            run: "click",
        },
        {
            content: "back on the shop's confirmation page",
            trigger: ".oe_website_sale_tx_status",
            timeout: 30000, // ETpay's page, the webhook, the return, then /payment/status
            run() {
                if (window.location.pathname !== "/shop/confirmation") {
                    throw new Error(`expected /shop/confirmation, got ${window.location.pathname}`);
                }
            },
        },
    ];
}

registry.category("web_tour.tours").add("payment_latam_etpay_checkout_success", {
    url: "/shop?search=Polera",
    steps: () => [
        ...reachPaymentAsChileanShopper(),
        ...payWithEtpay(),
        {
            content: "the payment is done",
            trigger:
                '.oe_website_sale_tx_status .alert-success:contains("Your payment has been successfully processed.")',
        },
        {
            content: "the order is confirmed",
            trigger: 'h5:contains("Order"):has(.fa-check-circle)',
        },
    ],
});

registry.category("web_tour.tours").add("payment_latam_etpay_checkout_cancelled", {
    url: "/shop?search=Polera",
    steps: () => [
        ...reachPaymentAsChileanShopper(),
        ...payWithEtpay(),
        {
            content: "the shop says the payment was cancelled",
            trigger:
                '.oe_website_sale_tx_status .bg-danger:contains("Your payment has been cancelled.")',
        },
        {
            content: "no thanks for an order that was not paid",
            trigger: 'body:not(:has(h3:contains("Thank you for your order")))',
        },
    ],
});
