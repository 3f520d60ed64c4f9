/** @odoo-module **/

import { registry } from "@web/core/registry";

// The Unicomer counter (payment.unicomer.cashier), as a cashier works it, against
// the loopback Unicomer simulator: look the customer up by cédula, choose a
// credit, collect, check the receipt can be printed, reverse, next customer.
// Printing itself downloads a PDF, which a tour cannot follow: the tour only
// checks the button is offered; the Python side checks what Unicomer holds.

const CEDULA = "0101690808";
const CUSTOMER = "LUIS ALBERTO DELEG";
const CREDIT = "008-043-00004107";
const OTHER_CREDIT = "008-043-00004109";
const RECEIPT = /UC\d{8}/;
// The statusbar's buttons are disabled (readonly field): a step with a `run` must
// anchor elsewhere, on an element inside the form at this step.
const SEARCH_STEP =
    '.o_form_view:has(.o_statusbar_status button.o_arrow_button_current[data-value="search"])';

function confirmDialog(content) {
    return {
        content,
        trigger: ".modal:not(.o_inactive_modal) .modal-footer button.btn-primary",
        run: "click",
    };
}

function searchCustomer(cedula) {
    return [
        {
            content: "the counter opens on the search step",
            trigger: SEARCH_STEP,
        },
        {
            content: "type the customer's cédula",
            trigger: 'div[name="customer_vat"] input',
            run: `edit ${cedula}`,
        },
        {
            content: "search the customer at Unicomer",
            trigger: 'button[name="action_search"]',
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("payment_latam_unicomer_cashier", {
    steps: () => [
        ...searchCustomer(CEDULA),
        {
            content: "Unicomer's customer is shown",
            trigger: `div[name="customer_name"]:contains("${CUSTOMER}")`,
        },
        {
            content: "with the first credit",
            trigger: `div[name="credit_line_ids"] .o_data_row:contains("${CREDIT}")`,
        },
        {
            content: "and the second one",
            trigger: `div[name="credit_line_ids"] .o_data_row:contains("${OTHER_CREDIT}")`,
        },
        {
            content: "choose the credit 008-043-00004107",
            trigger: `div[name="credit_line_ids"] .o_data_row:contains("${CREDIT}") button[name="action_select"]`,
            run: "click",
        },
        {
            content: "the credit is chosen and its amount due proposed",
            trigger: `div[name="selected_line_id"]:contains("${CREDIT}")`,
            run() {
                const amount = document.querySelector('div[name="amount"] input');
                if (!amount || !amount.value.includes("352.70")) {
                    throw new Error(`expected the amount due 352.70, got ${amount?.value}`);
                }
            },
        },
        {
            content: "the cashier's collection point is proposed",
            trigger: 'div[name="locality"] input',
            run() {
                if (this.anchor.value !== "AGENCIA CENTRO") {
                    throw new Error(`expected AGENCIA CENTRO, got ${this.anchor.value}`);
                }
            },
        },
        {
            content: "the customer pays 25.50",
            trigger: 'div[name="amount"] input',
            run: "edit 25.50",
        },
        {
            content: "register the collection",
            trigger: 'button[name="action_collect"]',
            run: "click",
        },
        confirmDialog("yes, the cash was taken"),
        {
            content: "Unicomer registered it",
            trigger: 'div[name="transaction_unicomer_status"]:contains("Registered")',
        },
        {
            content: "the receipt number is shown",
            trigger: 'div[name="transaction_id"]:contains("UC")',
            run() {
                const text = this.anchor.textContent;
                if (!RECEIPT.test(text)) {
                    throw new Error(`expected a receipt number UCnnnnnnnn, got "${text}"`);
                }
            },
        },
        {
            content: "the amount collected is 25.50",
            trigger: 'div[name="result"] div[name="amount"]:contains("25.50")',
        },
        {
            content: "the counter says to print the receipt",
            trigger: '.alert-success:contains("Unicomer registered the collection")',
        },
        {
            content: "the receipt can be printed",
            trigger: 'button[name="action_print_receipt"]',
        },
        {
            content: "reverse the collection",
            trigger: 'button[name="action_reverse"]',
            run: "click",
        },
        confirmDialog("yes, reverse it"),
        {
            content: "Odoo confirms the reversal",
            trigger: '.o_notification:contains("reversed")',
        },
        {
            content: "the counter shows the collection reversed",
            trigger: 'div[name="transaction_unicomer_status"]:contains("Reversed")',
        },
        {
            content: "and says to give the cash back",
            trigger: '.alert-secondary:contains("The collection was reversed")',
        },
        {
            content: "it can no longer be reversed",
            trigger: 'div[name="result"]:not(:has(button[name="action_reverse"]))',
        },
        {
            content: "next customer",
            trigger: 'button[name="action_new"]',
            run: "click",
        },
        {
            content: "a blank search for the next customer",
            trigger: `${SEARCH_STEP} div[name="customer_vat"] input`,
            run() {
                if (this.anchor.value) {
                    throw new Error(`expected an empty cédula, got "${this.anchor.value}"`);
                }
                if (document.querySelector('div[name="customer_name"], div[name="result"]')) {
                    throw new Error("the previous customer is still on the counter");
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("payment_latam_unicomer_cashier_bad_cedula", {
    steps: () => [
        ...searchCustomer("0101690809"),
        {
            content: "Odoo refuses the cédula",
            trigger: '.modal:contains("is not a valid Ecuadorian cédula or RUC")',
        },
        {
            content: "close the error",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "still on the search step, nothing looked up",
            trigger: `body:not(:has(.modal)) ${SEARCH_STEP} div[name="customer_vat"] input`,
            run() {
                if (document.querySelector('div[name="credit_line_ids"]')) {
                    throw new Error("credits shown for an invalid cédula");
                }
            },
        },
    ],
});
