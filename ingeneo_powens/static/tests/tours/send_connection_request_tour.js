import { registry } from "@web/core/registry";

// Option 2, the accountant's side: "Gérer la récupération automatique" on the bank -> "Envoyer
// la requête de connexion à un utilisateur" -> search the user -> the row's icon -> the request
// listed as sent.
registry.category("web_tour.tours").add("ingeneo_powens_send_connection_request", {
    steps: () => [
        {
            trigger: "a.nav-link[name=powens]",
            run: "click",
        },
        {
            trigger: "button[name=action_powens_manage]:contains(Gérer la récupération automatique)",
            run: "click",
        },
        {
            trigger: ".modal-footer button[name=action_powens_choose_request_user]:contains(Envoyer la requête de connexion à un utilisateur)",
            run: "click",
        },
        {
            trigger: ".modal .o_data_row:contains(powens_nomail) button[name=action_powens_send_connection_request] .fa-exclamation-triangle",
        },
        {
            trigger: ".modal .o_searchview_input",
            run: "edit Gérante",
        },
        {
            trigger: ".modal .o_searchview_input",
            run: "press Enter",
        },
        {
            trigger: ".modal .o_data_row:contains(gerante@example.com) button[name=action_powens_send_connection_request]",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=powens_request_ids] .o_data_row:contains(gerante@example.com):contains(Envoyée)",
        },
    ],
});
