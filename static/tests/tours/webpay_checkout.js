/** @odoo-module **/

import { registry } from "@web/core/registry";
import { reachPaymentAsChileanShopper } from "@payment_latam/../tests/tours/chilean_checkout";

// The Webpay checkout, end to end. After "Pay now" the browser leaves the shop
// for Transbank's form (the loopback simulator). A tour cannot act on a foreign
// page (no Odoo there, and its progress is kept in the shop's localStorage), so
// the simulator's autopilot makes the shopper's decision and sends the browser
// back to /payment/webpay/return; the tour resumes on the next shop page:
// /payment/status, which redirects to /shop/confirmation.
function payWithWebpay() {
    return [
        {
            content: "choose Webpay",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="webpay"]',
            run: "click",
        },
        {
            content: "pay now: off to Transbank's form, and back",
            trigger: 'button[name="o_payment_submit_button"]:contains("Pay now"):not(:disabled)',
            run: "click",
        },
        {
            content: "back on the shop's confirmation page",
            trigger: ".oe_website_sale_tx_status",
            timeout: 30000, // Transbank's form, the return, then /payment/status
            run() {
                if (window.location.pathname !== "/shop/confirmation") {
                    throw new Error(`expected /shop/confirmation, got ${window.location.pathname}`);
                }
            },
        },
    ];
}

registry.category("web_tour.tours").add("payment_latam_webpay_checkout_approve", {
    url: "/shop?search=Polera",
    steps: () => [
        ...reachPaymentAsChileanShopper(),
        ...payWithWebpay(),
        {
            content: "the payment is done",
            trigger:
                '.oe_website_sale_tx_status .alert-success:contains("Your payment has been successfully processed.")',
        },
        {
            content: "the order is confirmed",
            trigger: 'h5:contains("Order"):has(.fa-check-circle)',
        },
        {
            content: "the Webpay voucher shows an authorization code",
            trigger:
                '.o_payment_latam_webpay_voucher dt:contains("Authorization code") + dd:contains(/^\\d{6}$/)',
        },
        {
            content: "the Webpay voucher shows the card's last 4 digits",
            trigger: '.o_payment_latam_webpay_voucher dd:contains("**** **** **** 6623")',
        },
    ],
});

registry.category("web_tour.tours").add("payment_latam_webpay_checkout_abort", {
    url: "/shop?search=Polera",
    steps: () => [
        ...reachPaymentAsChileanShopper(),
        ...payWithWebpay(),
        {
            content: "the shop says the payment was cancelled",
            trigger:
                '.oe_website_sale_tx_status .bg-danger:contains("Your payment has been cancelled.")',
        },
        {
            content: "no voucher: nothing was paid",
            trigger: "body:not(:has(.o_payment_latam_webpay_voucher))",
        },
        {
            content: "no thanks for an order that was not paid",
            trigger: 'body:not(:has(h3:contains("Thank you for your order")))',
        },
    ],
});
