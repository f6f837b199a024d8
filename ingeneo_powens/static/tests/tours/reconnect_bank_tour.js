import { registry } from "@web/core/registry";
import { consentThroughPowensWebview } from "@ingeneo_powens/../tests/tours/powens_tour_steps";

// A bank whose bank asks for a strong authentication again (Powens' SCARequired):
// "Action requise" and "Reconnecter" -> consent -> Powens' reconnect webview (the sandbox drives
// itself in tests, one-time code included) -> back on the bank, connected again.
registry.category("web_tour.tours").add("ingeneo_powens_reconnect_bank", {
    steps: () => [
        {
            trigger: "a.nav-link[name=powens]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=powens_state]:contains(Action requise)",
        },
        {
            trigger: ".alert-warning .o_field_widget[name=powens_message]:contains(authentification forte)",
        },
        {
            trigger: "button[name=action_powens_reconnect].btn-primary:contains(Reconnecter)",
            run: "click",
        },
        ...consentThroughPowensWebview(),
        {
            trigger: ".o_field_widget[name=powens_state]:contains(Connectée)",
        },
        {
            trigger: ".o_form_view:not(:has(button[name=action_powens_reconnect].btn-primary))",
        },
    ],
});
