import { registry } from "@web/core/registry";
import {
    addBankToReferential,
    consentThroughPowensWebview,
    retrieveMovements,
} from "@ingeneo_powens/../tests/tours/powens_tour_steps";

/**
 * Issue 16's first connection without detours: "Ajouter une banque" with the IBAN ->
 * "Connecter POWENS" -> Powens' webview -> back on the POWENS tab, the account linked by
 * itself, the other shared accounts offered as banks and added -> the retrieval.
 */
function firstConnectionSteps(name, iban) {
    return [
        ...addBankToReferential(name, iban),
        {
            trigger: ".o_form_view a.nav-link[name=powens]",
            run: "click",
        },
        {
            trigger: "button[name=action_powens_connect]",
            run: "click",
        },
        ...consentThroughPowensWebview(),
        {
            // The account with the bank's IBAN is linked: only the other accounts are offered.
            trigger: ".modal .o_field_widget[name=account_ids]",
        },
        {
            trigger: ".modal-footer button[name=action_add_banks]",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_field_widget[name=powens_state]:contains(En attente de la première récupération)",
        },
        ...retrieveMovements(),
    ];
}

/**
 * "Créer le solde d'ouverture" closes the gap the first retrieval shows (issue 16 §1).
 */
function openingBalanceSteps() {
    return [
        {
            trigger: ".o_field_widget[name=powens_balance_difference]",
        },
        {
            trigger: "button[name=action_powens_create_opening_balance]",
            run: "click",
        },
        {
            // A gap of 0 is not shown.
            trigger: ".o_form_view:not(:has(.o_field_widget[name=powens_balance_difference]))",
        },
    ];
}

// The IBAN of the sandbox autopilot's checking account, as its holder reads it on a statement
// (tests/test_tours.py checks it is common.autopilot_iban()).
const AUTOPILOT_IBAN = "FR76 9999 9689 1819 5969 6165 048";

registry.category("web_tour.tours").add("ingeneo_powens_first_connection", {
    steps: () => [
        ...firstConnectionSteps("Banque de test - compte courant", AUTOPILOT_IBAN),
        ...openingBalanceSteps(),
    ],
});
