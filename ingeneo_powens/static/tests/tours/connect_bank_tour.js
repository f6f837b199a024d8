import { registry } from "@web/core/registry";
import { consentThroughPowensWebview } from "@ingeneo_powens/../tests/tours/powens_tour_steps";

// Option 1: "Connecter POWENS" on the bank -> consent -> Powens' webview (the sandbox drives
// itself in tests) -> back on the bank's POWENS tab, the choice of its account open at once ->
// waiting for the first movements.
registry.category("web_tour.tours").add("ingeneo_powens_connect_bank", {
    steps: () => [
        {
            trigger: "a.nav-link[name=powens]",
            run: "click",
        },
        {
            trigger: "button[name=action_powens_connect]",
            run: "click",
        },
        ...consentThroughPowensWebview(),
        {
            // No account has the bank's IBAN: the choice opens at once.
            trigger: ".modal .o_field_widget[name=account_id] .o_radio_input",
            run: "click",
        },
        {
            trigger: ".modal-footer button[name=action_link]",
            run: "click",
        },
        {
            // Then the other accounts shared are offered as banks of their own: not now.
            trigger: ".modal .o_field_widget[name=account_ids]",
        },
        {
            trigger: ".modal-footer button[data-hotkey=x]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=powens_state]:contains(En attente de la première récupération)",
        },
    ],
});
