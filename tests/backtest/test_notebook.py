"""notebooks/rule_tuning.ipynb runs top to bottom on a small city and draws its plot."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "rule_tuning.ipynb"


def test_rule_tuning_notebook_runs(lake_home, tmp_path, monkeypatch):
    png = tmp_path / "plot.png"
    monkeypatch.setenv("WUGAN_HOME", str(lake_home.home))
    monkeypatch.setenv("NOTEBOOK_OUT", str(png))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert png.stat().st_size > 10_000
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "events" in printed and "precision" in printed
