"""MkDocs hooks of the course site: keep it offline, and fail the build when something would come from outside.

mkdocs-jupyter's notebook template (nbconvert's ``base/mathjax.html.j2``) adds a MathJax 2 script (a CDN's, or
an empty ``src``) and its configuration to every notebook page, and a loader that imports mermaid from a CDN; the
site already loads the vendored MathJax 3 on every page, so both are removed. Then every page's ``<script src>``, ``<link href>``, ``<img src>``, ``<iframe src>``
and ``<source src>`` and every inline ``@import`` / ``url(...)`` must be relative to the site: anything else is an
error, and the build stops (offline means every script, style, font and image is served from the built folder).
"""
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

NB_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
# nbconvert's mermaid loader: imports mermaid from a CDN when a notebook has a diagram (none here); removed so
# that a diagram added later fails the browser test (raw text) rather than loading from outside
NB_MERMAID = re.compile(r"<script type=\"module\">\s*document\.addEventListener\(\"DOMContentLoaded\", async \(\) => \{\s*"
                        r"const diagrams = document\.querySelectorAll\(\"\.jp-Mermaid.*?</script>", re.S)
EXTERNAL_IMPORT = re.compile(r"import\(\s*[\"'](?:https?:)?//[^\"']+", re.I)
EXTERNAL_ATTR = re.compile(
    r"<(script|link|img|iframe|source|audio|video|embed)\b[^>]*?\b(src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)",
    re.I,
)
EXTERNAL_CSS = re.compile(r"(?:@import\s+|url\()\s*[\"']?((?:https?:)?//[^\"')\s]+)", re.I)


def external_resources(html):
    """The external resources an HTML text loads (links a reader clicks, ``<a href>``, are not resources)."""
    found = [m.group(3) for m in EXTERNAL_ATTR.finditer(html)
             if not (m.group(1).lower() == "link" and re.search(r"rel=[\"']?(canonical|alternate)", m.group(0)))]
    for style in re.findall(r"<style[^>]*>(.*?)</style>", html, re.S | re.I):
        found += EXTERNAL_CSS.findall(style)
    return found


NB_PAGE_LINK = re.compile(r"""(<a\s[^>]*href=")(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^"#?]+?)(\.md|\.ipynb)([#?"])""")


def notebook_links(html):
    """Point a notebook's links to other pages (written ``../docs/study4.md`` for GitHub) at the built pages.

    MkDocs rewrites the links of Markdown pages; a notebook's HTML comes from nbconvert and keeps them as written.
    A README.md becomes its folder's index.html, as MkDocs names it.
    """
    def fix(m):
        stem = m.group(2)
        if stem == "README" or stem.endswith("/README"):
            stem = stem[: -len("README")] + "index"
        return f"{m.group(1)}{stem}.html{m.group(4)}"
    return NB_PAGE_LINK.sub(fix, html)


def on_post_page(output, page, config):
    output = NB_MERMAID.sub("", NB_MATHJAX.sub("", output))
    if page.file.src_uri.endswith(".ipynb"):
        output = notebook_links(output)
    bad = external_resources(output) + EXTERNAL_IMPORT.findall(output)
    if bad:
        raise PluginError(f"{page.file.src_uri}: loads from outside the site: {', '.join(sorted(set(bad)))}")
    return output


def on_post_build(config):
    site = Path(config["site_dir"])
    for css in site.rglob("*.css"):
        bad = EXTERNAL_CSS.findall(css.read_text(encoding="utf-8", errors="replace"))
        if bad:
            raise PluginError(f"{css.relative_to(site)}: loads from outside the site: {', '.join(sorted(set(bad)))}")
