"""Generate the web client's asset bundles once, in the template database the test databases
are copied from, as Odoo's own test runner does before its browser tests.

Run through `bin/odoo shell -d DB < scripts/pregenerate_assets.py` (the shell provides `env`).
A test database then generates again only the bundles the add-on changes (its scripts and
tours), instead of every bundle: generated during a test, a bundle is rolled back with it.
"""

env["ir.qweb"]._pregenerate_assets_bundles()  # noqa: F821 - provided by odoo shell
env.cr.commit()  # noqa: F821
