"""The course site (docs/site/): built fresh, then every page opened in a real headless Chromium.

Needs the ``[site]`` extra (MkDocs, Material, mkdocs-jupyter, mkdocstrings, Playwright), npm (MathJax is vendored
from its npm package) and a Chromium binary (Debian's ``chromium``; or ``PRETRAINLAB_CHROMIUM=/path``); without
them the tests are skipped, saying which is missing. Playwright drives the system Chromium (``executable_path``):
nothing is downloaded.

Per page the browser test fails on: a console error or an uncaught page error; a request that failed or answered
≥ 400; an image that did not load (``naturalWidth == 0``); a link to a page of the site that is not there; math
left as raw text (``$…$``, ``\\(``, ``\\[`` outside code) or a MathJax error (``mjx-merror``). It saves screenshots
of the home page, one tutorial, one study page and one API page to ``docs/site/_screenshots/`` (git-ignored; the committed
copies, looked at, are in ``docs/site/screenshots/``).
"""
import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "site"
BUILD = SITE / "_build"
SHOTS = SITE / "_screenshots"
MODULES = ("mkdocs", "material", "mkdocs_jupyter", "mkdocstrings", "mkdocstrings_handlers.python", "playwright")


def _missing_tools():
    missing = []
    for mod in MODULES:
        try:
            found = importlib.util.find_spec(mod) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(f"Python package {mod} (pip install -e '.[site]')")
    if shutil.which("npm") is None and not any((SITE / "_cache").glob("mathjax-*.tgz")):
        missing.append("npm (apt-get install npm), to vendor MathJax")
    return missing


def _chromium():
    for candidate in (os.environ.get("PRETRAINLAB_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        path = candidate and shutil.which(candidate)
        if path:
            return path
    return None


MISSING = _missing_tools()
needs_tools = pytest.mark.skipif(bool(MISSING), reason="the site's build tools are missing: " + "; ".join(MISSING))
needs_browser = pytest.mark.skipif(_chromium() is None,
                                   reason="no Chromium binary (apt-get install chromium, or set PRETRAINLAB_CHROMIUM)")


def _build_env():
    return dict(os.environ, NO_MKDOCS_2_WARNING="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


@pytest.fixture(scope="module")
def built_site():
    """Build the site once for this module (``python docs/site/build.py``) and return its folder."""
    run = subprocess.run([sys.executable, str(SITE / "build.py")], cwd=ROOT, env=_build_env(),
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, f"the site build failed:\n{run.stdout[-4000:]}\n{run.stderr[-8000:]}"
    return BUILD


# ---------------------------------------------------------------- the build refuses what it must refuse
BROKEN = {
    "a broken internal link": "See [the missing page](nowhere.md).\n",
    "a missing image": "![a figure](figures/missing.png)\n",
    "an external script": '<script src="https://cdn.example.org/x.js"></script>\n',
}


@needs_tools
@pytest.mark.parametrize("defect", [None, *BROKEN])
def test_build_fails_on_broken_link_missing_image_or_external_script(tmp_path, defect):
    """A one-page site built with the site's own settings (validation, strict, hooks): fine as written, fails on each
    defect. The control (None) proves the failures come from the defect, not from the small setup."""
    pages = tmp_path / "pages"
    (pages / "figures").mkdir(parents=True)
    (pages / "figures" / "ok.png").write_bytes((ROOT / "docs" / "figures" / "rbm_likelihood.png").read_bytes())
    (pages / "index.md").write_text("# Home\n\n![fine](figures/ok.png) and $E = mc^2$.\n\n"
                                    + (BROKEN[defect] if defect else ""), encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"INHERIT: {SITE / 'mkdocs.yml'}\ndocs_dir: {pages}\nsite_dir: {tmp_path / 'out'}\n"
                      "extra_javascript: []\nextra_css: []\n"
                      f"hooks: [{SITE / 'hooks.py'}]\nplugins: [search]\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)], cwd=SITE,
                         env=_build_env(), capture_output=True, text=True, timeout=600)
    if defect is None:
        assert run.returncode == 0, run.stderr[-3000:]
        assert (tmp_path / "out" / "index.html").is_file()
    else:
        assert run.returncode != 0, f"the build accepted {defect}"
        expected = {"a broken internal link": "nowhere.md", "a missing image": "missing.png",
                    "an external script": "cdn.example.org"}[defect]
        assert expected in run.stderr, run.stderr[-3000:]


# ---------------------------------------------------------------- the built site, offline and in a browser
@needs_tools
@pytest.mark.slow
def test_built_site_loads_nothing_from_outside(built_site):
    """No page's script, style, font or image comes from outside the built folder; MathJax's fonts are there."""
    sys.path.insert(0, str(SITE))
    try:
        from hooks import EXTERNAL_CSS, EXTERNAL_IMPORT, external_resources
    finally:
        sys.path.remove(str(SITE))
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) > 50  # home, install, map, 9 tutorials, the study and docs pages, the API pages
    offenders = {str(p.relative_to(built_site)): bad for p in pages
                 if (bad := external_resources(text := p.read_text(encoding="utf-8")) + EXTERNAL_IMPORT.findall(text))}
    offenders.update({str(c.relative_to(built_site)): bad for c in built_site.rglob("*.css")
                      if (bad := EXTERNAL_CSS.findall(c.read_text(encoding="utf-8", errors="replace")))})
    assert not offenders, offenders
    assert (built_site / "assets" / "mathjax" / "tex-chtml-full.js").is_file()
    assert list((built_site / "assets" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a browser closing a connection early: not an error
        pass


@pytest.fixture(scope="module")
def served(built_site):
    """The built folder served over HTTP on a free local port (as a reader's ``python -m http.server`` would)."""
    server = _QuietServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# Per page, in the browser: wait for MathJax, load every image, then report what is wrong.
PAGE_CHECK = r"""
async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const images = Array.from(document.images);
  for (const img of images) { img.loading = "eager"; }
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  const brokenImages = images.filter(img => img.naturalWidth === 0).map(img => img.getAttribute("src"));
  const links = Array.from(document.querySelectorAll("a[href]")).map(a => a.href);
  // text outside code, scripts, styles and typeset math: no TeX may be left there
  const skip = "script, style, code, pre, textarea, mjx-container, .highlight, .jp-OutputArea, .md-search";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement && node.parentElement.closest(skip)) continue;
    const text = node.textContent;
    const m = text.match(/\$[^$\s][^$]*\$|\\\(|\\\[|\\begin\{/);
    if (m) raw.push(text.slice(Math.max(0, m.index - 30), m.index + 50));
  }
  const mathErrors = Array.from(document.querySelectorAll("mjx-merror")).map(e => e.getAttribute("data-mjx-error") || e.textContent);
  return {brokenImages, links, raw, mathErrors, nMath: document.querySelectorAll("mjx-container").length};
}
"""

SCREENSHOTS = {  # page → (file, what to scroll to first: the first element matching, or None for the top)
    "index.html": ("home.png", None),
    "tutorials/01_rbm_contrastive_divergence.html": ("tutorial_01.png", "#what-the-hidden-units-learned"),
    "docs/study1.html": ("study1.png", "article img"),
    "api/pretrainlab/rbm.html": ("api_rbm.png", None),  # the docstrings' equations, typeset
}


def _page_path(built_site, url, base):
    """The file a same-site URL serves, or None for another site."""
    if not url.startswith(base):
        return None
    path = unquote(urlsplit(url).path).lstrip("/")
    target = built_site / path
    return target / "index.html" if (not path or target.is_dir()) else target


@needs_tools
@needs_browser
@pytest.mark.slow
def test_every_page_in_headless_chromium(built_site, served):
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    pages = sorted(str(p.relative_to(built_site)) for p in built_site.rglob("*.html") if p.name != "404.html")
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems, n_math = {}, 0
    with sync_playwright() as pw:
        # as root in CI (no sandbox), no GPU; and none of Chromium's own calls home, which a closed network refuses
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors = []
        page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        # a request cut short by the next navigation (ERR_ABORTED: favicon, search index) is not a failure;
        # a missing file still shows as its 404 response below
        page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url} ({req.failure})")
                if "ERR_ABORTED" not in (req.failure or "") else None)
        page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

        def local_only(route):  # the site must work with the network cut: a request off the server is refused
            if route.request.url.startswith(served):
                route.continue_()
            else:
                errors.append(f"request outside the site: {route.request.url}")
                route.abort()

        context.route("**/*", local_only)
        for rel in pages:
            errors.clear()
            page.goto(f"{served}/{rel}", wait_until="load")
            found = page.evaluate(PAGE_CHECK)
            n_math += found["nMath"]
            bad = list(errors)
            bad += [f"image not loaded: {src}" for src in found["brokenImages"]]
            bad += [f"raw math: …{text}…" for text in found["raw"]]
            bad += [f"MathJax error: {text}" for text in found["mathErrors"]]
            for url in found["links"]:
                target = _page_path(built_site, url, served)
                if target is not None and not target.is_file():
                    bad.append(f"link to a missing page: {url[len(served):]}")
            if bad:
                problems[rel] = bad
            if rel in SCREENSHOTS:
                name, anchor = SCREENSHOTS[rel]
                if anchor:
                    # one scroll down, to just below Material's fixed header (scrolling up shows "Back to top")
                    page.locator(anchor).first.evaluate(
                        "e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 70)")
                    page.wait_for_timeout(800)  # let the header's title swap finish before the picture
                page.screenshot(path=str(SHOTS / name))
        browser.close()
    assert not problems, "\n".join(f"{rel}:\n  " + "\n  ".join(bad[:10]) for rel, bad in problems.items())
    assert n_math > 100, f"only {n_math} typeset formulas on the whole site: is MathJax running?"
    for name, _ in SCREENSHOTS.values():
        assert (SHOTS / name).stat().st_size > 10_000  # a real picture, not a blank page
