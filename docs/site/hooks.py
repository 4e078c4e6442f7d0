"""MkDocs hooks of the course site: keep it offline, and fail the build when something would come from outside.

mkdocs-jupyter's notebook template (nbconvert's ``base/mathjax.html.j2``) adds MathJax 2 from a CDN to every
notebook page; the site already loads the vendored MathJax 3 on every page, so that script and its MathJax-2
configuration block are removed. Then every page's ``<script src>``, ``<link href>``, ``<img src>``, ``<iframe src>``
and ``<source src>`` and every inline ``@import`` / ``url(...)`` must be relative to the site: anything else is an
error, and the build stops (offline means every script, style, font and image is served from the built folder).
"""
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

CDN_MATHJAX = re.compile(
    r"<!-- Load mathjax -->\s*<script[^>]*src=\"https?://[^\"]*mathjax[^\"]*\"[^>]*>\s*</script>.*?"
    r"<!-- End of mathjax configuration -->",
    re.S | re.I,
)
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


def on_post_page(output, page, config):
    output = CDN_MATHJAX.sub("", output)
    bad = external_resources(output)
    if bad:
        raise PluginError(f"{page.file.src_uri}: loads from outside the site: {', '.join(sorted(set(bad)))}")
    return output


def on_post_build(config):
    site = Path(config["site_dir"])
    for css in site.rglob("*.css"):
        bad = EXTERNAL_CSS.findall(css.read_text(encoding="utf-8", errors="replace"))
        if bad:
            raise PluginError(f"{css.relative_to(site)}: loads from outside the site: {', '.join(sorted(set(bad)))}")
