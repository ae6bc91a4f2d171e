"""Settings for every test of this repository (see also the ini's ``addopts``)."""

import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """Drop the hypothesis plugin from a run that collected no hypothesis test (the eval suites):
    at the end of every run it imports all of hypothesis (~1 s) only to find nothing to report."""
    if "hypothesis" not in sys.modules:
        plugin = session.config.pluginmanager.get_plugin("hypothesispytest")
        if plugin is not None:
            session.config.pluginmanager.unregister(plugin)
