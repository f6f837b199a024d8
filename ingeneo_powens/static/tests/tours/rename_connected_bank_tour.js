import { registry } from "@web/core/registry";

// An accounting administrator renames a connected bank from its form and saves: the web client
// sends the fields the user changed, never the read-only Powens ones, so the save goes through.
registry.category("web_tour.tours").add("ingeneo_powens_rename_connected_bank", {
    steps: () => [
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Banque renommée",
        },
        {
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_saved",
        },
    ],
});
