"""Build the course site: ``python docs/site/build.py`` (from anywhere; needs ``pip install -e ".[site]"`` and npm).

What it does, in order:

1. Assembles the pages into ``docs/site/_pages/`` (git-ignored, rebuilt every time) in the repository's own layout,
   so every relative link written for GitHub keeps working unchanged: ``README.md`` (the home), ``docs/*.md``,
   ``tutorials/*.ipynb`` (the committed notebooks, copied, never executed), each study's
   ``pretrainlab/studies/<study>/README.md``, and every file those pages link to (figures, results JSON, sources),
   found by following their links. Two pages are cut from the README's sections ("Install" and "Map of the code")
   and one API page per module is written for mkdocstrings.
2. Vendors MathJax 3 from the npm registry package (``npm pack mathjax@3``, cached in ``docs/site/_cache/``) into
   the pages, so no script, style or font comes from a CDN.
3. Runs ``mkdocs build --strict`` into ``docs/site/_build/`` (git-ignored): a broken internal link or a missing image
   is a warning, ``--strict`` turns it into a failed build; ``hooks.py`` fails the build on any external script,
   style, font or image.

Exit status 0 on success; the built site opens at ``docs/site/_build/index.html`` (or serve the folder:
``python -m http.server -d docs/site/_build``).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent.parent
PAGES = SITE / "_pages"
BUILD = SITE / "_build"
CACHE = SITE / "_cache"
MATHJAX_SPEC = "mathjax@3.2.2"  # pinned: the build is reproducible and the cache key is the version

# the pages every build starts from; everything they link to is followed
SEED_PAGES = (
    ["README.md"]
    + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))
    + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pretrainlab" / "studies").glob("*/README.md"))
    + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tutorials").glob("*.ipynb"))
)

# Markdown links and images: [text](target) / ![alt](target), and HTML src/href attributes
LINK_RE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK_RE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def link_targets(text):
    """The relative link targets in Markdown ``text`` (external links, mail and pure anchors left out)."""
    out = []
    for target in LINK_RE.findall(text) + HTML_LINK_RE.findall(text):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            continue
        out.append(target.split("#", 1)[0].split("?", 1)[0])
    return [t for t in out if t]


def notebook_markdown(path):
    """The Markdown cells of a notebook, joined (what its links live in)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def copy_notebook(src, dst):
    """Copy a notebook for static rendering, outputs kept, nothing executed.

    Widget views (tqdm's notebook bar) would need the ipywidgets renderer from a CDN and show a frozen bar in a
    static page; their plain-text fallback is kept instead, and the widget state dropped.
    """
    nb = json.loads(src.read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and "application/vnd.jupyter.widget-view+json" in data:
                data.pop("application/vnd.jupyter.widget-view+json")
                if not data:
                    data["text/plain"] = ""
    dst.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


def assemble_pages():
    """Copy the seed pages and, transitively, every repository file they link to. Returns (pages, missing)."""
    if PAGES.exists():
        shutil.rmtree(PAGES)
    PAGES.mkdir(parents=True)
    queue, seen, missing = list(SEED_PAGES), set(), []
    while queue:
        rel = queue.pop()
        if rel in seen:
            continue
        seen.add(rel)
        src = ROOT / rel
        dst = PAGES / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".ipynb":
            copy_notebook(src, dst)
            text = notebook_markdown(src)
        elif src.suffix == ".md":
            text = src.read_text(encoding="utf-8")
            dst.write_text(text, encoding="utf-8")
        else:
            shutil.copy2(src, dst)
            continue
        for target in link_targets(text):
            resolved = (src.parent / target).resolve()
            try:
                rel_target = str(resolved.relative_to(ROOT))
            except ValueError:
                missing.append(f"{rel}: {target} (outside the repository)")
                continue
            if resolved.is_file():
                queue.append(rel_target)
            elif not resolved.is_dir():
                missing.append(f"{rel}: {target}")
    return sorted(seen), missing


def readme_sections(text):
    """{heading: body} for the README's ``## `` sections."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def rebase_links(text, from_dir):
    """Rewrite the relative links of ``text`` written in ``from_dir`` (repo-relative) for a page at the root."""
    def fix(match):
        whole, target = match.group(0), match.group(1)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return whole
        new = os.path.normpath(os.path.join(from_dir, target)).replace(os.sep, "/")
        return whole.replace(target, new, 1)
    return LINK_RE.sub(fix, text)


def library_modules():
    """Dotted names of the modules that get an API page: the library, the studies and the runner."""
    names = []
    for path in sorted((ROOT / "pretrainlab").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if "__pycache__" in parts or parts[-1] == "__main__" or any(p.startswith("_") and p != "__init__" for p in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def write_generated_pages():
    """The Install and Map pages (cut from the README) and one API page per module. Returns the API page paths."""
    sections = readme_sections((ROOT / "README.md").read_text(encoding="utf-8"))
    install = ["# Install\n", "*From the README's sections of the same names.*\n"]
    for name in ("Two commands", "Dependencies", "Data"):
        install.append(f"## {name}\n{sections[name]}")
    tut = sections["Tutorials"].split("\n\n")[0]
    install.append("## Tutorials\n\n" + tut + "\n")
    (PAGES / "install.md").write_text(rebase_links("\n".join(install), "."), encoding="utf-8")

    api_pages = []
    for mod in library_modules():
        rel = Path("api") / (mod.replace(".", "/") + ".md")
        (PAGES / rel).parent.mkdir(parents=True, exist_ok=True)
        (PAGES / rel).write_text(f"# `{mod}`\n\n::: {mod}\n", encoding="utf-8")
        api_pages.append((mod, str(rel)))

    lines = ["# Map of the code\n", "*From the README's sections of the same names.*\n"]
    for name in ("Reading order", "Map"):
        lines.append(f"## {name}\n{sections[name]}")
    lines.append("## Every module's reference\n\nGenerated from the docstrings (equations typeset).\n")
    lines += [f"- [`{mod}`]({rel})" for mod, rel in api_pages]
    (PAGES / "map.md").write_text(rebase_links("\n".join(lines), "."), encoding="utf-8")
    return api_pages


def vendor_mathjax():
    """Unpack MathJax's es5 build (scripts and woff-v2 fonts) from the npm package into the pages."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / (MATHJAX_SPEC.replace("@", "-") + ".tgz")
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("build: npm not found; it fetches MathJax from the npm registry (apt-get install npm)")
        subprocess.run([npm, "pack", MATHJAX_SPEC, "--silent", "--pack-destination", str(CACHE)], check=True,
                       stdout=subprocess.DEVNULL)
    dest = PAGES / "assets" / "mathjax"
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("package/es5/"):
                member.name = member.name[len("package/es5/"):]
                tar.extract(member, dest, filter="data")
    for name in ("mathjax-config.js", "extra.css"):
        shutil.copy2(SITE / "assets" / name, PAGES / "assets" / name)


def nav_yaml(api_pages):
    """The navigation, written beside mkdocs.yml's settings (INHERIT) so the config stays short."""
    tutorials = sorted(p.name for p in (ROOT / "tutorials").glob("*.ipynb"))
    studies = [("Study 1: sparseness", "docs/study1.md"), ("Study 2: pretraining", "docs/study2.md"),
               ("Study 3: diversifying", "docs/study3.md"), ("Study 4: AE dynamics", "docs/study4.md"),
               ("Study 5: DrSAE", "docs/study5.md"), ("RBM likelihood", "docs/likelihood.md"),
               ("Baselines", "docs/baselines.md")]
    code = [(p.parent.name, str(p.relative_to(ROOT))) for p in sorted((ROOT / "pretrainlab/studies").glob("*/README.md"))]
    nav = [{"Home": "README.md"}, {"Install": "install.md"}, {"Map of the code": "map.md"},
           {"Tutorials": [f"tutorials/{t}" for t in tutorials]},
           {"Studies": [{k: v} for k, v in studies] + [{"Study code": [{k: v} for k, v in code]}]},
           {"Speed": "docs/speed.md"}, {"Sweeps": "docs/sweeps.md"},
           {"scikit-learn": "docs/sklearn_example.md"}, {"Changelog": "docs/CHANGELOG.md"},
           {"API reference": [{mod: rel} for mod, rel in api_pages]}]
    return nav


def main(argv=None):
    t0 = time.perf_counter()
    pages, missing = assemble_pages()
    if missing:
        # fail here with every broken link named (mkdocs would name the Markdown ones only, not the notebooks')
        print("build: links to files that are not there:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    api_pages = write_generated_pages()
    vendor_mathjax()
    generated = SITE / "_nav.yml"
    import yaml  # from mkdocs' own dependencies
    generated.write_text("# generated by build.py: do not edit\nINHERIT: mkdocs.yml\n"
                         + yaml.safe_dump({"nav": nav_yaml(api_pages)}, sort_keys=False, allow_unicode=True),
                         encoding="utf-8")
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-f", str(generated)]
    env = dict(os.environ, PYTHONPATH=str(SITE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rc = subprocess.run(cmd, cwd=SITE, env=env).returncode
    n_html = sum(1 for _ in BUILD.rglob("*.html")) if rc == 0 else 0
    print(f"build: {'ok' if rc == 0 else 'FAILED'} in {time.perf_counter() - t0:.1f} s; "
          f"{len(pages)} source files assembled, {n_html} HTML pages in {BUILD.relative_to(ROOT)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
