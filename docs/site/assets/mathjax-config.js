// MathJax 3 settings (loaded before the vendored tex-chtml-full.js). Two kinds of math on this site:
// Markdown pages and docstrings: pymdownx.arithmatex writes \(…\) and \[…\] inside <span|div class="arithmatex">;
// notebooks: mkdocs-jupyter keeps the cells' $…$ and $$…$$ inside .jp-RenderedMarkdown.
// Only those elements are processed, so a dollar sign in code or prose elsewhere stays text.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex|jp-RenderedMarkdown",
  },
};
// Material's instant navigation is off, but re-typeset if a page swaps its content (document$ exists with Material)
if (typeof document$ !== "undefined") {
  document$.subscribe(() => { if (MathJax.typesetPromise) MathJax.typesetPromise(); });
}
