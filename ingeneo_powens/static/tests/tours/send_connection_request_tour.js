import { registry } from "@web/core/registry";

// Option 2, the accountant's side: "Manage the automatic retrieval" on the bank -> "Send the
// connection request to a user" -> search the user -> the row's icon -> the request listed.
registry.category("web_tour.tours").add("ingeneo_powens_send_connection_request", {
    steps: () => [
        {
            trigger: "a.nav-link:contains(POWENS)",
            run: "click",
        },
        {
            trigger: "button[name=action_powens_manage]",
            run: "click",
        },
        {
            trigger: ".modal-footer button[name=action_powens_choose_request_user]",
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
            trigger: ".modal .o_field_widget[name=powens_request_ids] .o_data_row:contains(gerante@example.com):contains(Sent)",
        },
    ],
});
