import { registry } from "@web/core/registry";

// Option 1, first part, as the accountant holding the right: the Invoicing app ->
// "Référentiel comptable" (menu) -> "Référentiel comptable" -> its tab -> Bank -> "+ Ajouter" ->
// name -> "Enregistrer" -> the new bank's form. Selectors name the elements, so the tour runs
// in French as in English.
registry.category("web_tour.tours").add("ingeneo_powens_add_bank", {
    steps: () => [
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
            run: "edit Crédit Mutuel - compte pro",
        },
        {
            trigger: ".modal-footer button[name=action_save]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=bank_journal_ids] .o_data_row:contains(Crédit Mutuel - compte pro) button.btn-link",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb:contains(Crédit Mutuel - compte pro)",
        },
        {
            trigger: ".o_form_view a.nav-link[name=powens]",
        },
    ],
});
