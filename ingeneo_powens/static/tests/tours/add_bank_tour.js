import { registry } from "@web/core/registry";

// Company form -> "Accounting referential" tab -> Bank -> "+ Add" -> name -> "Save".
registry.category("web_tour.tours").add("ingeneo_powens_add_bank", {
    steps: () => [
        {
            trigger: "a.nav-link:contains(Accounting referential)",
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
            trigger: ".modal-footer button.btn-primary:contains(Save)",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=bank_journal_ids] .o_data_row:contains(Crédit Mutuel - compte pro)",
        },
    ],
});
