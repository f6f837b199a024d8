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
