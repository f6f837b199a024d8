import { registry } from "@web/core/registry";
import { retrieveMovements } from "@ingeneo_powens/../tests/tours/powens_tour_steps";

// A connected bank: "Synchroniser maintenant" -> "Mouvements" -> the imported lines.
registry.category("web_tour.tours").add("ingeneo_powens_bank_movements", {
    steps: () => [
        ...retrieveMovements(),
        {
            trigger: "button[name=action_powens_open_lines]",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:nth-child(3)",
        },
    ],
});
