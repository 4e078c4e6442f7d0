"""Every tutorial notebook runs top to bottom (in quick mode: PRETRAINLAB_QUICK=1 shrinks its sizes).

A tutorial that does not run is a failing test. Notebooks are executed in their own folder with the
repository on PYTHONPATH, so they import this checkout's pretrainlab. They run in memory: the committed files,
which hold the outputs of a default-mode run (`python tutorials/regenerate.py`), are never written here.
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


@pytest.mark.slow
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


# ---- the committed notebooks carry the outputs of a default-mode run (written by tutorials/regenerate.py)

def _outputs(notebook):
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_tutorial_has_default_mode_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    mode = notebook.metadata.get("pretrainlab", {}).get("mode")
    assert mode == "default", (f"{path.name}: outputs from mode {mode!r}; regenerate them with "
                               f"`python tutorials/regenerate.py --only {path.name[:2]}`")
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not run top to bottom in one kernel: {counts}"
    outputs = _outputs(notebook)
    assert not [out for out in outputs if out.output_type == "error"], f"{path.name}: a cell raised"
    assert any("image/png" in out.get("data", {}) for out in outputs), f"{path.name}: no figure in the outputs"
    # a static render must not show a frozen progress bar or the repr of a plotting call's return value
    assert not [out for out in outputs if "application/vnd.jupyter.widget-view+json" in out.get("data", {})], path.name
    assert not [out for out in outputs if out.output_type == "stream" and out.name == "stderr"
                and "%|" in out.text], f"{path.name}: a text progress bar in the outputs"
    reprs = [out["data"]["text/plain"] for out in outputs if "text/plain" in out.get("data", {})]
    assert not [r for r in reprs if r.startswith(("[Text(", "Text(", "[<matplotlib"))], f"{path.name}: {reprs}"


def test_regenerate_refuses_an_unknown_tutorial():
    import importlib.util
    spec = importlib.util.spec_from_file_location("regenerate", ROOT / "tutorials" / "regenerate.py")
    regenerate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(regenerate)
    assert [p.name for p in regenerate.notebooks(("03",))] == ["03_mlp_and_gradient_checking.ipynb"]
    with pytest.raises(SystemExit, match="no tutorial matches"):
        regenerate.notebooks(("99",))
