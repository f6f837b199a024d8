import { registry } from "@web/core/registry";

// Option 2, the invited user's side: the notification (the bell) -> the request -> consent ->
// Powens' webview (the sandbox drives itself in tests) -> back on the request, connected.
registry.category("web_tour.tours").add("ingeneo_powens_connection_request", {
    steps: () => [
        {
            trigger: ".o_menu_systray .fa-comments",
            run: "click",
        },
        {
            trigger: ".o-mail-MessagingMenu-headerFilter:contains(Notifications)",
            run: "click",
        },
        {
            trigger: ".o-mail-NotificationItem:contains(Banque test):contains(vous demande de connecter la banque)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=consent_text]:contains(180 jours)",
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
            trigger: ".o_form_view .alert-success:contains(La banque est connectée)",
        },
    ],
});
