"""The production-like run natively (deploy/native_run.py): PostgreSQL, api-server, scheduler, dag-processor."""

from __future__ import annotations

import glob
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin/initdb"), reason="PostgreSQL is not installed")
def test_ingest_triggered_through_the_api_fills_the_case_store():
    """Timing is the bench's business (``deploy/native_run.py`` prints it); the limits here only stop a hang."""
    done = subprocess.run([sys.executable, str(ROOT / "deploy" / "native_run.py"), "--persons", "3000",
                           "--days", "2", "--timeout", "600"], capture_output=True, text=True, timeout=900, cwd=ROOT)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0 and result["ok"], (result, done.stderr[-4000:])
    assert result["counts"]["cases"] > 0 and result["counts"]["tasks"] > 0
    assert all(runs and set(runs) == {"asset_triggered"} for runs in result["event_dag_runs"].values())
    assert all(result["services_alive"].values())
    print(f"trigger -> cases written {result['trigger_to_cases_s']}s, total {result['total_s']}s")
