/** @odoo-module **/

import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

// A shopper with a Chilean address reaches the payment step of a CLP order
// and is offered the three Chilean channels, and not Unicomer.
registry.category("web_tour.tours").add("payment_latam_checkout_offers_chilean_channels", {
    url: "/shop?search=Polera",
    steps: () => [
        {
            content: "open the product",
            trigger: '.oe_product_cart a:contains("Polera LatAm")',
            run: "click",
        },
        {
            content: "add it to the cart",
            trigger: '#product_detail form[action^="/shop/cart/update"] #add_to_cart',
            run: "click",
        },
        tourUtils.goToCart(),
        tourUtils.goToCheckout(),
        {
            content: "fill a Chilean address",
            trigger: "form.checkout_autoformat",
            run() {
                const fill = (name, value) => {
                    document.querySelector(`input[name="${name}"]`).value = value;
                };
                fill("name", "Camila Rojas");
                fill("email", "camila.rojas@example.cl");
                fill("phone", "+56 9 8765 4321");
                fill("street", "Av. Providencia 1234");
                fill("city", "Santiago");
                const country = document.querySelector("#o_country_id");
                country.value = [...country.options].find((o) => o.text.trim() === "Chile").value;
                country.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "save the address",
            trigger: "#save_address",
            run: "click",
        },
        tourUtils.confirmOrder(),
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
