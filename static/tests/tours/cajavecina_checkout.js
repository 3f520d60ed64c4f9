/** @odoo-module **/

import { registry } from "@web/core/registry";
import { reachPaymentAsChileanShopper } from "@payment_latam/../tests/tours/chilean_checkout";

// The RUT the checkout shopper gives in the address form (tests check it).
const SHOPPER_RUT = "76086428-5";

// reachPaymentAsChileanShopper() leaves the tax ID empty, and Caja Vecina finds
// a payment by the payer's RUT: add one between filling and saving the address.
// The anonymous cart's billing form shows the VAT field (website_sale.address_b2b).
function reachPaymentAsChileanShopperWithRut(rut) {
    const steps = reachPaymentAsChileanShopper();
    const index = steps.findIndex((step) => step.content === "fill a Chilean address");
    if (index === -1) {
        throw new Error("reachPaymentAsChileanShopper() has no 'fill a Chilean address' step");
    }
    const giveRut = {
        content: `give the RUT ${rut} as tax ID`,
        trigger: 'form.checkout_autoformat input[name="vat"]',
        run: `edit ${rut}`,
    };
    return [...steps.slice(0, index + 1), giveRut, ...steps.slice(index + 1)];
}

function chooseCajaVecinaAndPay() {
    return [
        {
            content: "choose Caja Vecina",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="cajavecina"]',
            run: "click",
        },
        {
            content: "pay now",
            trigger: 'button[name="o_payment_submit_button"]:contains("Pay now"):not(:disabled)',
            run: "click",
        },
    ];
}

// Caja Vecina, end to end on the shop's side: the redirect form posts the
// reference to /payment/cajavecina/process (the payment becomes pending), then
// /payment/status, where pending is final for Caja Vecina, sends the shopper on
// to /shop/confirmation with what to do at the Caja Vecina.
registry.category("web_tour.tours").add("payment_latam_cajavecina_checkout", {
    url: "/shop?search=Polera",
    steps: () => [
        ...reachPaymentAsChileanShopperWithRut(SHOPPER_RUT),
        ...chooseCajaVecinaAndPay(),
        {
            content: "on the shop's confirmation page",
            trigger: ".oe_website_sale_tx_status",
            timeout: 30000, // the redirect form, /payment/status, then the landing route
            run() {
                if (window.location.pathname !== "/shop/confirmation") {
                    throw new Error(`expected /shop/confirmation, got ${window.location.pathname}`);
                }
            },
        },
        {
            content: "the payment is pending",
            trigger: ".oe_website_sale_tx_status .card.bg-info",
        },
        {
            content: "the shopper is told to pay cash at a Caja Vecina",
            trigger:
                '.o_payment_latam_cajavecina_instructions:contains("Pay in cash at any Caja Vecina")',
        },
        {
            content: "with the RUT to give there",
            trigger: `.o_payment_latam_cajavecina_instructions dt:contains("Your RUT") + dd:contains("${SHOPPER_RUT}")`,
        },
        {
            content: "no thanks for a paid order: nothing is paid yet",
            trigger: "body:not(:has(.oe_website_sale_tx_status .alert-success))",
        },
    ],
});

// Without a valid RUT on the address Caja Vecina cannot find the payment: the
// shop refuses it on the payment page and says why.
registry.category("web_tour.tours").add("payment_latam_cajavecina_checkout_without_rut", {
    url: "/shop?search=Polera",
    steps: () => [
        ...reachPaymentAsChileanShopper(),
        ...chooseCajaVecinaAndPay(),
        {
            content: "the shop says a RUT is needed",
            trigger:
                '.modal:contains("Caja Vecina finds your payment by your RUT: add a valid RUT (tax ID) to your address, then choose Caja Vecina again.")',
        },
        {
            content: "still on the payment page",
            trigger: "#o_payment_form",
            run() {
                if (window.location.pathname !== "/shop/payment") {
                    throw new Error(`expected /shop/payment, got ${window.location.pathname}`);
                }
            },
        },
    ],
});
