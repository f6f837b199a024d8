from . import controllers
from . import models
from . import wizard


def uninstall_hook(env):
    """No Powens token outlives the add-on: each company's Powens user is deleted at Powens
    when Powens answers (best effort, logged), and every token is forgotten in any case."""
    companies = env["res.company"].with_context(active_test=False).search([])
    companies._powens_delete_user(env._("The POWENS add-on was uninstalled."), best_effort=True)
