// Steps shared by the tours of a bank's life: added to the referential, connected through
// Powens' webview, its movements retrieved.

/** The Invoicing app -> the "Référentiel comptable" menu, open on its entries. */
export function openReferentialMenu() {
    return [
        {
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            trigger: ".o_app[data-menu-xmlid='account.menu_finance']",
            run: "click",
        },
        {
            trigger: ".o_menu_sections [data-menu-xmlid='ingeneo_powens.menu_accounting_referential']",
            run: "click",
        },
    ];
}

/**
 * The Invoicing app -> "Référentiel comptable" -> its tab -> Bank -> "+ Ajouter" -> the name
 * (and the IBAN when given) -> "Enregistrer" -> the new bank's form.
 */
export function addBankToReferential(name, iban = null) {
    return [
        ...openReferentialMenu(),
        {
            trigger: ".o-dropdown-item[data-menu-xmlid='ingeneo_powens.menu_accounting_referential_company']",
            run: "click",
        },
        {
            trigger: ".o_form_view a.nav-link[name=accounting_referential]",
            run: "click",
        },
        {
            trigger: "button[name=action_add_bank]",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=name] input",
            run: `edit ${name}`,
        },
        ...(iban
            ? [
                  {
                      trigger: ".modal .o_field_widget[name=acc_number] input",
                      run: `edit ${iban}`,
                  },
              ]
            : []),
        {
            trigger: ".modal-footer button[name=action_save]",
            run: "click",
        },
        {
            trigger: `.o_field_widget[name=bank_journal_ids] .o_data_row:contains(${name}) button.btn-link`,
            run: "click",
        },
        {
            trigger: `.o_breadcrumb:contains(${name})`,
        },
    ];
}

/**
 * Consent in the dialog, go through Powens' webview (the sandbox's autopilot fills it in
 * tests) and come back on the bank, open on its POWENS tab.
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
            trigger: ".o_form_view a.nav-link.active[name=powens]",
        },
    ];
}

/** "Synchroniser maintenant" on a connected bank's POWENS tab, until the bank is connected. */
export function retrieveMovements() {
    return [
        {
            trigger: "a.nav-link[name=powens]",
            run: "click",
        },
        {
            trigger: "button[name=action_powens_sync]",
            run: "click",
        },
        {
            // The click imports six months of movements (Odoo books 40 to 70 lines a second
            // here, fewer while coverage is measured): more than a step's default 10 s.
            trigger: ".o_notification:contains(importé)",
            timeout: 60000,
        },
        {
            trigger: ".o_field_widget[name=powens_state]:contains(Connectée)",
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
