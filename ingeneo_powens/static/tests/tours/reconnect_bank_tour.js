import { registry } from "@web/core/registry";
import { reconnectOnPowensTab } from "@ingeneo_powens/../tests/tours/powens_tour_steps";

// A bank whose bank asks for a strong authentication again: reconnected from its form.
registry.category("web_tour.tours").add("ingeneo_powens_reconnect_bank", {
    steps: () => reconnectOnPowensTab(),
});
