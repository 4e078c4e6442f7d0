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
