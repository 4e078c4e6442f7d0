"""Every tutorial notebook runs top to bottom (in quick mode: PRETRAINLAB_QUICK=1 shrinks its sizes).

A tutorial that does not run is a failing test. Notebooks are executed in their own folder with the
repository on PYTHONPATH, so they import this checkout's pretrainlab.
"""
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="install the [dev] extra to execute the tutorials")
nbclient = pytest.importorskip("nbclient", reason="install the [dev] extra to execute the tutorials")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "tutorials").glob("*.ipynb"))


def test_tutorials_exist():
    assert NOTEBOOKS, "tutorials/ holds no notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_tutorial_runs_top_to_bottom(path, monkeypatch, tmp_path):
    monkeypatch.setenv("PRETRAINLAB_QUICK", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PRETRAINLAB_TUTORIAL_OUT", str(tmp_path))  # where a notebook may write files
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
