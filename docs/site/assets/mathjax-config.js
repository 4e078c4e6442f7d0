// MathJax 3 settings (loaded before the vendored tex-chtml-full.js). Two kinds of math on this site:
// Markdown pages and docstrings: pymdownx.arithmatex writes \(…\) and \[…\] inside <span|div class="arithmatex">;
// notebooks: mkdocs-jupyter keeps the cells' $…$ and $$…$$ inside .jp-RenderedMarkdown.
// Only those elements are processed, so a dollar sign in code or prose elsewhere stays text: every Material element
// (class md-…) is ignored with all it holds, down to an element of a process class, whose whole subtree is read.
// md-ellipsis: the label of a navigation or table-of-contents entry (a notebook heading with $E, S, b$ in it).
// (Material's own recipe, ignore ".*|", would also ignore each classless <p> inside a notebook's Markdown cell.)
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: "md-[\\w-]+|tex2jax_ignore",
    processHtmlClass: "arithmatex|jp-RenderedMarkdown|md-ellipsis",
  },
};
// Material's instant navigation is off, but re-typeset if a page swaps its content (document$ exists with Material)
if (typeof document$ !== "undefined") {
  document$.subscribe(() => { if (MathJax.typesetPromise) MathJax.typesetPromise(); });
}
