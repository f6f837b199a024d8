// Steps shared by the tours that go from a bank's form through Powens' webview.

/**
 * Consent in the dialog, go through Powens' webview (the sandbox's autopilot fills it in
 * tests) and come back on the bank's POWENS tab.
 */
export function consentThroughPowensWebview() {
    return [
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
    ];
}

/**
 * On the form of a bank whose bank asks for a strong authentication again (Powens'
 * SCARequired): its POWENS tab, "Action requise", "Reconnecter" -> consent -> Powens' reconnect
 * webview (the sandbox drives itself in tests, one-time code included) -> back on the bank,
 * connected again.
 */
export function reconnectOnPowensTab() {
    return [
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
    ];
}
