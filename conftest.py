"""Project-wide pytest policy: a skipped test is a failed test; the Odoo tests find the web
client's assets generated once, and, spread over xdist workers, each writes to a filestore of
its own.

Odoo skips browser tests silently when Chromium or websocket-client is missing; a green run
that exercised no tour would hide exactly the failures the tours exist to catch.
"""

import functools
import os
import shutil
from collections import OrderedDict
from unittest import mock

import pytest

_skipped = []

# The Odoo test modules whose classes take longest (20 to 100 s each).
LONGEST_FIRST = (
    "test_tours.py",
    "test_powens_first_sync.py",
    "test_powens_sync_faults.py",
    "test_powens_security.py",
    "test_powens_sync.py",
)


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_xdist_make_scheduler(config, log):
    """The Odoo suite spread by class (`--dist loadscope`), the longest classes handed out
    first. xdist hands out the classes with the most tests first, and the longest hold one
    test each: handed out last, one of them kept a worker busy for 40 s after the other ran
    out of work."""
    if not config.pluginmanager.hasplugin("odoo") or config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling  # here: xdist is loaded once this hook runs

    class LongestClassesFirst(LoadScopeScheduling):
        def _assign_work_unit(self, node):
            self.workqueue = OrderedDict(sorted(self.workqueue.items(), key=lambda unit: not _is_long(unit[0])))
            super()._assign_work_unit(node)

    return LongestClassesFirst(config, log)


def _is_long(scope):
    """Whether the class ``scope`` (``path/test_x.py::TestX``) is one of the longest."""
    return scope.split("::")[0].rsplit("/", 1)[-1] in LONGEST_FIRST


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
        odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})["ir.qweb"]._pregenerate_assets_bundles()
