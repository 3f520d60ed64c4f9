/** @odoo-module **/

import paymentPostProcessing from "@payment/js/post_processing";

// A Caja Vecina payment stays pending until the shopper pays cash and the bank
// tells us, which may take days: the status page must not wait for it.
paymentPostProcessing.include({
    _getFinalStates(providerCode) {
        const finalStates = this._super(...arguments);
        if (providerCode === "cajavecina") {
            finalStates.add("pending");
        }
        return finalStates;
    },
});
