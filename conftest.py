"""Project-wide pytest policy: a skipped test is a failed test; the Odoo tests find the web
client's assets generated once, and, spread over xdist workers, each writes to a filestore of
its own.

Odoo skips browser tests silently when Chromium or websocket-client is missing; a green run
that exercised no tour would hide exactly the failures the tours exist to catch.
"""

import functools
import os
import shutil
from unittest import mock

import pytest

_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _skipped and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _skipped:
        terminalreporter.write_line(f"FAILED: {len(_skipped)} test(s) skipped; skips are not allowed here:", red=True)
        for nodeid in _skipped:
            terminalreporter.write_line(f"  {nodeid}", red=True)


@pytest.fixture(scope="session", autouse=True)
def filestore_of_the_worker(request):
    """pytest-odoo gives each xdist worker a copy of the database but points every copy at the
    original's filestore. After each test class Odoo collects that filestore's garbage against
    its own database, so one worker deleted the asset bundles another had just written in its
    test transaction, and that worker's tour met a blank page. A worker gets its own filestore,
    as it has its own database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not request.config.pluginmanager.hasplugin("odoo"):
        yield
        return
    request.getfixturevalue("load_registry")  # pytest-odoo's: the worker's database copy exists
    import odoo  # here: the plain suite runs without Odoo on its path

    config = odoo.tools.config
    own_filestore = functools.partial(type(config).filestore, config)
    database = odoo.tests.common.get_db_name()
    original, copy = own_filestore(database.removesuffix(f"-{worker}")), own_filestore(database)
    shutil.rmtree(copy, ignore_errors=True)
    if os.path.isdir(original):
        shutil.copytree(original, copy, copy_function=os.link)  # files are written once, never changed
    with mock.patch.object(config, "filestore", own_filestore):
        yield
    shutil.rmtree(copy, ignore_errors=True)


# The bundles the browser tests load that the add-on changes (its scripts, its tours), and those
# the web client loads lazily, which Odoo's pregeneration leaves out; the template database
# holds the others, generated once (scripts/pregenerate_assets.py).
BROWSER_BUNDLES = (
    "web.assets_web",
    "web.assets_tests",
    "web.__assets_tests_call__",
    "web.assets_backend_lazy",
    "web.assets_emoji",
    "web.chartjs_lib",
    "bus.websocket_worker_assets",
    "mail.assets_message_email",
)


@pytest.fixture(scope="session", autouse=True)
def asset_bundles_generated_once(request, filestore_of_the_worker):
    """The web client's asset bundles, generated and committed before the browser tests, as
    Odoo's own test runner does: generated during a test, a bundle was rolled back with it and
    generated again by the next class opening a page (about a minute of the suite)."""
    if not request.config.pluginmanager.hasplugin("odoo"):
        return
    import odoo  # here: the plain suite runs without Odoo on its path

    if not any(item.cls and issubclass(item.cls, odoo.tests.HttpCase) for item in request.session.items):
        return
    with odoo.modules.registry.Registry(odoo.tests.common.get_db_name()).cursor() as cr:
        qweb = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})["ir.qweb"]
        for name in BROWSER_BUNDLES:
            bundle = qweb._get_asset_bundle(name)
            bundle.js()
            bundle.css()
