"""Real Airflow for the DAG tests: a temporary AIRFLOW_HOME with a SQLite metadata DB, set before airflow loads.

Environment variables, not monkeypatching: Airflow reads its configuration
once, at its first import, so they are set when this conftest is imported
(before any test module of this folder imports airflow). The metadata DB is
created once per session.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="wugan-airflow-"))

AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
}
os.environ.update(AIRFLOW_ENV)
for _name in list(os.environ):  # a developer's own settings must not leak into the tests
    if _name.startswith(("AIRFLOW_VAR_WUGAN", "AIRFLOW_CONN_WUGAN")):
        del os.environ[_name]


@pytest.fixture(scope="session")
def airflow_db():
    """The metadata DB, created once for the session."""
    from airflow.utils.db import resetdb

    resetdb()
    return AIRFLOW_HOME


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


# Warnings that importing Airflow causes in code that is not ours, ignored by exact message and origin:
# - dag.test's in-process execution API imports starlette.testclient, which warns about httpx;
# - skops (the hardship model's files) walks sys.modules and trips Airflow's deprecated-import shims.
# Added to the session's filters, since Airflow stays imported for the tests that run after these.
AIRFLOW_IMPORT_WARNINGS = (
    "ignore:Using `httpx` with `starlette.testclient` is deprecated:UserWarning",
    "ignore::airflow.utils.deprecation_tools.DeprecatedImportWarning:skops.*",
)


def pytest_configure(config):
    for spec in AIRFLOW_IMPORT_WARNINGS:
        config.addinivalue_line("filterwarnings", spec)
