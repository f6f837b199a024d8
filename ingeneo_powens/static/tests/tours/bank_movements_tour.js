import { registry } from "@web/core/registry";

// A connected bank: "Synchroniser maintenant" -> "Mouvements" -> the imported lines.
registry.category("web_tour.tours").add("ingeneo_powens_bank_movements", {
    steps: () => [
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
        {
            trigger: "button[name=action_powens_open_lines]",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:nth-child(3)",
        },
    ],
});
