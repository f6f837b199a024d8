import { registry } from "@web/core/registry";
import { addBankToReferential } from "@ingeneo_powens/../tests/tours/powens_tour_steps";

// Option 1, first part, as the accountant holding the right: the bank added to the referential
// by its name only, then its form. Selectors name the elements, so the tour runs in French as
// in English.
registry.category("web_tour.tours").add("ingeneo_powens_add_bank", {
    steps: () => [
        ...addBankToReferential("Crédit Mutuel - compte pro"),
        {
            trigger: ".o_form_view a.nav-link[name=powens]",
        },
    ],
});
