"""The package's layout: the library, the studies and the runner, with imports pointing one way only.

    library (pretrainlab/*.py, kernels/, estimators/)  ←  studies/<study>/  ←  runner/

The library must load, and be read, without a study or the command line: no library module imports
``pretrainlab.studies`` or ``pretrainlab.runner``, except inside the two registries that name study classes
a checkpoint may hold (``checkpoint.model_classes``, ``penalties.terms_registry``), the package's lazy
``pretrainlab.DrSAE`` and ``__main__`` (``python -m pretrainlab`` runs the command line). The test reads every module's imports with ``ast`` (nothing is imported to check).
"""
import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pretrainlab"

#: the library's top level, one file per idea (and the plumbing): a module added or moved here is a decision
LIBRARY_MODULES = {
    "__init__", "__main__", "layers", "rbm", "cd", "likelihood", "autoencoder", "mlp", "pretrain", "penalties",
    "optim", "train", "gradcheck", "data", "plotting", "base", "validation", "checkpoint", "stats",
}
STUDIES = {"sparseness", "pretraining", "diversify", "ae_dynamics", "drsae", "classics"}
#: (module, function) where a library module may import from studies/: the lazy registries
#: (and ``python -m pretrainlab``, whose ``__main__`` is only the command line's entry point)
ALLOWED = {("checkpoint", "model_classes"), ("penalties", "terms_registry"), ("__init__", "__getattr__"),
           ("__main__", None)}


def module_name(path):
    """'pretrainlab.a.b' for PACKAGE/a/b.py (a package's __init__ is the package)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """Yield ``(imported module, enclosing function or None, line)`` for every import in the file at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def walk(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, function, child.lineno
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module
                if child.module is None:
                    for alias in child.names:  # from . import x: x may be a module
                        yield f"{target}.{alias.name}", function, child.lineno
                else:
                    yield target, function, child.lineno
            yield from walk(child, inner)
    yield from walk(tree, None)


def layer(module):
    """'library', 'studies' or 'runner' for a dotted module name inside pretrainlab (None outside it)."""
    parts = module.split(".")
    if parts[0] != "pretrainlab":
        return None
    if len(parts) > 1 and parts[1] in ("studies", "runner"):
        return parts[1]
    return "library"


def wrong_arrows(paths):
    """Every import by a library module of studies/ or runner/ outside ``ALLOWED``: (file, line, target)."""
    found = []
    for path in paths:
        source = module_name(path)
        if layer(source) != "library":
            continue
        short = source.split(".")[-1] if source != "pretrainlab" else "__init__"
        for target, function, line in imports(path):
            if layer(target) in ("studies", "runner") and (short, function) not in ALLOWED:
                found.append((str(path.relative_to(PACKAGE.parent)), line, target))
    return found


def test_the_library_imports_neither_studies_nor_runner():
    assert wrong_arrows(sorted(PACKAGE.rglob("*.py"))) == []


def test_the_check_catches_an_arrow_pointing_the_wrong_way(tmp_path, monkeypatch):
    """The same check on a copy of ``optim.py`` with one import of a study added at the top: it must fail."""
    fake = tmp_path / "pretrainlab"
    fake.mkdir()
    bad = fake / "optim.py"
    bad.write_text("from .studies.drsae.model import DrSAE\n" + (PACKAGE / "optim.py").read_text(encoding="utf-8"))
    lazy = fake / "penalties.py"
    lazy.write_text("def terms_registry():\n    from .studies.diversify.regularizers import TERMS\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert wrong_arrows([bad, lazy]) == [("pretrainlab/optim.py", 1, "pretrainlab.studies.drsae.model")]


def test_the_tree_is_library_studies_runner():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == LIBRARY_MODULES
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders == {"kernels", "estimators", "studies", "runner"}
    studies = {p.name for p in (PACKAGE / "studies").iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert studies == STUDIES
    for study in STUDIES:  # each study says what it is: the paper, the facts its docstrings cite, the command
        readme = PACKAGE / "studies" / study / "README.md"
        assert readme.is_file(), f"studies/{study} has no README.md"


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_a_study_does_not_import_the_command_line(study):
    """A study may use the runner's scaffolding (run folders, sweeps) but never the CLI or the benchmark."""
    for path in (PACKAGE / "studies" / study).rglob("*.py"):
        for target, _, line in imports(path):
            assert not target.startswith(("pretrainlab.runner.cli", "pretrainlab.runner.bench")), (path, line)
