"""The README's Python example runs as written (in a temporary folder: it saves a figure)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Ten lines of Python\n\n```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "filters.png").stat().st_size > 0
    lines = capsys.readouterr().out.splitlines()
    assert 0 < float(lines[0]) < 60  # a reconstruction error per image, below the untrained model's
    assert all(v <= 1e-6 for v in eval(lines[1]).values())


# ---- the README is an entry point; the results pages under docs/ link only to files that exist ----------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) and ![caption](target)


def _pages():
    """README.md and every docs/*.md except the _old_*.md copies kept for a merge (their links are the README's)."""
    return [ROOT / "README.md"] + [p for p in sorted((ROOT / "docs").glob("*.md")) if not p.name.startswith("_")]


def test_readme_is_an_entry_point_of_at_most_250_lines():
    n = len((ROOT / "README.md").read_text().splitlines())
    assert n <= 250, f"README.md has {n} lines; results belong on their pages under docs/"


def test_every_relative_link_points_to_an_existing_file():
    broken = []
    for page in _pages():
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):  # http:, mailto:, an anchor
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken, "links to missing files:\n" + "\n".join(broken)


def test_the_link_check_sees_both_link_forms():
    """The pattern finds both link forms, so a missing figure cannot slip through as an image."""
    assert LINK.findall("see [a](docs/a.md) and ![b](figures/b.png)") == ["docs/a.md", "figures/b.png"]


def test_nothing_cites_the_lab_notes_outside_the_repository():
    """Docstrings, tutorials and pages cite the study pages under docs/, never a notes file outside the repository."""
    names = [stem + ".md" for stem in ("STUDIES", "MISSION")]  # spelled apart so that this file does not cite them
    skip = {".git", ".venv", "pretrainlab-runs", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis"}
    hits = []
    for path in ROOT.rglob("*"):
        if skip.intersection(path.relative_to(ROOT).parts) or path.suffix not in {".py", ".md", ".ipynb", ".txt",
                                                                                  ".cfg", ".toml", ".json"}:
            continue
        if path.is_file():
            text = path.read_text(errors="ignore")
            hits += [f"{path.relative_to(ROOT)}: {name}" for name in names if name in text]
    assert not hits, f"files outside the repository cited: {hits}"
