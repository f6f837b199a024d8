import { registry } from "@web/core/registry";

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
        {
            trigger: ".modal .o_field_widget[name=accepted] input",
            run: "click",
        },
        {
            trigger: ".modal-footer button[name=action_continue]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: ".o_form_view a.nav-link[name=powens]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=powens_state]:contains(Connectée)",
        },
        {
            trigger: ".o_form_view:not(:has(button[name=action_powens_reconnect].btn-primary))",
        },
    ],
});
