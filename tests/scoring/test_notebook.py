"""The analysts' evaluation notebook runs on the small city's champion."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "model_evaluation.ipynb"


def test_model_evaluation_notebook_runs(scoring_city, monkeypatch):
    settings, result = scoring_city
    monkeypatch.setenv("WUGAN_HOME", str(settings.home))
    monkeypatch.setenv("WUGAN_MODELS_DIR", str(settings.models_dir))
    monkeypatch.setenv("WUGAN_MODEL_VERSION", result.version)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(settings.home)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2
