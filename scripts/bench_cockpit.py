"""The cockpit "POWENS banks" measured as the web client loads it: the same server methods
(``web_search_read`` with the list's fields, ``web_read_group`` for the grouped list and the
kanban, ``formatted_read_grouping_sets`` for the pivot), with each filter's domain as the
search view defines it. Each measure starts with an empty ORM cache, as a new request does.

``make bench`` calls :func:`measure_cockpit` for 400 banks; an Odoo test checks that its query
counts are the same for 5 banks as for 20."""

import time
from dataclasses import dataclass

from lxml import etree

from odoo.tools.safe_eval import safe_eval

# The web client's first page of a list, and of each group of a kanban.
PAGE_SIZE = 80
RELATIONAL_TYPES = ("many2one", "many2many", "one2many")


@dataclass
class CockpitMeasure:
    """One screen of the cockpit: what was shown, how many banks, SQL queries and seconds."""

    view: str
    records: int
    queries: int
    seconds: float


def fields_spec(model, view_type):
    """The fields specification the web client sends for the cockpit's view ``view_type``,
    from the view as the user gets it (fields of groups the user lacks are gone)."""
    view_xmlid = f"ingeneo_powens.powens_cockpit_view_{view_type}"
    views = model.get_views([(model.env.ref(view_xmlid).id, view_type)])
    arch = etree.fromstring(views["views"][view_type]["arch"])
    nodes = arch.findall("field") if view_type == "list" else arch.iter("field")
    spec = {}
    for node in nodes:
        field = model._fields[node.get("name")]
        spec[field.name] = {"fields": {"display_name": {}}} if field.type in RELATIONAL_TYPES else {}
    return spec


def measure_cockpit(env, journals):
    """Open the cockpit as ``env``'s user does from the menu, on the banks ``journals``, and
    measure each screen: the list, grouped or not, the kanban, the pivot and each filter."""
    journal_model = env["account.journal"]
    action = journal_model.action_open_powens_cockpit()
    model = journal_model.with_context(**action["context"])
    domain = safe_eval(action["domain"]) + [("id", "in", journals.ids)]
    list_spec = fields_spec(model, "list")
    kanban_spec = fields_spec(model, "kanban")

    screens = {
        "list": lambda: len(model.web_search_read(domain, list_spec, limit=PAGE_SIZE)["records"]),
        "list by company": lambda: _grouped_count(model.web_read_group(domain, ["company_id"], limit=PAGE_SIZE)),
        "list by status": lambda: _grouped_count(model.web_read_group(domain, ["powens_state"], limit=PAGE_SIZE)),
        "kanban by company": lambda: _grouped_count(
            model.web_read_group(
                domain,
                ["company_id"],
                limit=PAGE_SIZE,
                auto_unfold=True,
                unfold_read_specification=kanban_spec,
                unfold_read_default_limit=PAGE_SIZE,
            )
        ),
        "pivot company x status": lambda: sum(
            group["__count"]
            for group in model.formatted_read_grouping_sets(
                domain, [["company_id", "powens_state"], ["company_id"], ["powens_state"], []], ["__count"]
            )[-1]
        ),
    }
    for name, filter_domain in journal_model._powens_cockpit_filter_domains().items():
        screens[f"filter {name}"] = lambda filter_domain=filter_domain: len(
            model.web_search_read(domain + filter_domain, list_spec, limit=PAGE_SIZE)["records"]
        )
    return [_measure(env, name, screen) for name, screen in screens.items()]


def _grouped_count(result):
    return sum(group["__count"] for group in result["groups"])


def _measure(env, name, screen):
    env.invalidate_all()
    queries_before = env.cr.sql_log_count
    started = time.perf_counter()
    records = screen()
    seconds = time.perf_counter() - started
    return CockpitMeasure(name, records, env.cr.sql_log_count - queries_before, seconds)
