import { registry } from "@web/core/registry";

// Option 2, the invited user's side: the notification (the bell) -> the request -> consent ->
// Powens' webview (the sandbox drives itself in tests) -> back on the request, connected.
registry.category("web_tour.tours").add("ingeneo_powens_connection_request", {
    steps: () => [
        {
            trigger: ".o_menu_systray i[aria-label=Messages]",
            run: "click",
        },
        {
            trigger: ".o-mail-MessagingMenu-headerFilter:contains(Notifications)",
            run: "click",
        },
        {
            trigger: ".o-mail-NotificationItem:contains(Connection of the bank):contains(asks you to connect the bank)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=consent_text]:contains(180 days)",
        },
        {
            trigger: ".o_form_view button[name=action_consent]",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name=action_open_webview]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: ".o_form_view .alert-success:contains(The bank is connected)",
        },
    ],
});
