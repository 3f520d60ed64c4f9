/** @odoo-module **/

import * as tourUtils from "@website_sale/js/tours/tour_utils";

// Steps shared by the shop tours: a shopper with a Chilean address puts the
// CLP product in the cart and reaches the payment step.
export function reachPaymentAsChileanShopper() {
    return [
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
    ];
}
