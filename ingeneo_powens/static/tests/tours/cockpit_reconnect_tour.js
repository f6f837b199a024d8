import { registry } from "@web/core/registry";
import { openReferentialMenu, reconnectOnPowensTab } from "@ingeneo_powens/../tests/tours/powens_tour_steps";

// The filter's label reads "Action requise" once the cockpit's French terms are in i18n/fr.po;
// until then, its English source.
const ACTION_REQUIRED_FILTER = ".o_filter_menu .o_menu_item:contains(Action requise), .o_filter_menu .o_menu_item:contains(Action required)";
const ACTION_REQUIRED_FACET = ".o_searchview_facet:contains(Action requise), .o_searchview_facet:contains(Action required)";

/** The Invoicing app -> "Référentiel comptable" -> "Banques POWENS". */
function openCockpit() {
    return [
        ...openReferentialMenu(),
        {
            // Through /powens/cockpit, which ticks every company of the user: a new page.
            trigger: ".o-dropdown-item[data-menu-xmlid='ingeneo_powens.menu_powens_cockpit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: ".o_list_renderer .o_group_header",
        },
    ];
}

/** The cockpit, filtered on "Action requise". */
function openCockpitOnActionRequired() {
    return [
        ...openCockpit(),
        {
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ACTION_REQUIRED_FILTER,
            run: "click",
        },
        {
            trigger: ACTION_REQUIRED_FACET,
        },
    ];
}

// The accountant's morning: the cockpit's "Action requise" shows the bank whose bank asks for a
// strong authentication; it opens on the bank, which is reconnected there; back in the
// cockpit, "Action requise" lists it no more.
registry.category("web_tour.tours").add("ingeneo_powens_cockpit_reconnect", {
    steps: () => [
        // Its kanban (cards by company) and its pivot (companies x statuses) first.
        ...openCockpit(),
        {
            trigger: "button.o_switch_view.o_kanban",
            run: "click",
        },
        {
            trigger: ".o_kanban_record:contains(Banque test):contains(Action requise)",
        },
        {
            trigger: "button.o_switch_view.o_pivot",
            run: "click",
        },
        {
            trigger: ".o_pivot .o_pivot_header_cell_closed:contains(Action requise)",
        },
        ...openCockpitOnActionRequired(),
        {
            // The company's group once filtered: the one bank asking for an action.
            trigger: ".o_group_header:contains('(1)')",
            run: "click",
        },
        {
            trigger: ".o_data_row:contains(Banque test) td.o_data_cell[name=name]",
            run: "click",
        },
        ...reconnectOnPowensTab(),
        ...openCockpitOnActionRequired(),
        {
            trigger: ".o_content:not(:has(.o_data_row)):not(:has(.o_group_header))",
        },
    ],
});
