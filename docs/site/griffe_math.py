r"""Griffe extension for the site's API reference: typeset the docstrings' equation blocks, mend one layout slip.

The docstrings write their equations in Unicode, indented as a block, so that they read in an editor and in
``help()`` (e.g. ``E(v, h) = −vᵀWh − b_visᵀv − b_hidᵀh``). For the site, each such block is translated to TeX
(``E(v, h) = -v^\top W h - b_{\mathrm{vis}}^\top v - …``) and handed to MathJax as display math. The translation
is conservative: a block is translated only when it has an equation sign and every character is one the table
below knows; anything else (a command line, a JSON sample, a sentence) stays a code block. The docstrings
themselves are not changed.

The layout slip: a prose paragraph after a NumPy ``Parameters`` section ("Which path runs: …") would be read as a
parameter named "Which"; such a paragraph gets a ``Notes`` heading here.
"""
import re
import unicodedata

import griffe

# one Unicode character → TeX (letters and digits pass through)
SYMBOLS = {
    "−": "-", "·": r"\cdot ", "⊙": r"\odot ", "⊗": r"\otimes ", "←": r"\leftarrow ", "→": r"\to ",
    "≈": r"\approx ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\ne ", "∈": r"\in ", "∝": r"\propto ", "‖": r"\| ",
    "Σ": r"\sum ", "∂": r"\partial ", "⟨": r"\langle ", "⟩": r"\rangle ", "½": r"\tfrac{1}{2}", "…": r"\ldots ",
    "ᵀ": r"^{\top}", "²": "^{2}", "³": "^{3}", "⁰": "^{0}", "₀": "_{0}", "₁": "_{1}", "₂": "_{2}",
    "±": r"\pm ", "′": "'", "″": "''", "‴": "'''", "~": r"\sim ", "*": "^{*}", "%": r"\%", "#": r"\#", "&": r"\&",
    "α": r"\alpha ", "β": r"\beta ", "γ": r"\gamma ", "δ": r"\delta ", "ε": r"\varepsilon ", "η": r"\eta ",
    "θ": r"\theta ", "λ": r"\lambda ", "μ": r"\mu ", "ν": r"\nu ", "π": r"\pi ", "ρ": r"\rho ", "σ": r"\sigma ",
    "τ": r"\tau ", "ψ": r"\psi ", "ω": r"\omega ", "Δ": r"\Delta ", "Ψ": r"\Psi ", "Ω": r"\Omega ", "ℓ": r"\ell ",
}
ACCENTS = {"\u0303": r"\tilde", "\u0302": r"\hat", "\u0304": r"\bar"}  # combining tilde, circumflex, macron
PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=/()[],.;:<>|'!_^{}")
FUNCTIONS = {"log", "exp", "max", "min", "sin", "cos", "arcsin", "arccos"}  # TeX's own; others: \operatorname
OPERATORS = {"tr", "diag"}
EQUATION_SIGN = re.compile(r"[=←≈∝]")


def translatable(text):
    """Whether ``text`` is an equation block this table can translate (else it stays a code block)."""
    if not EQUATION_SIGN.search(text) or "``" in text or '"' in text or "`" in text:
        return False
    chars = set(text.replace("\n", "")) - set(ACCENTS)
    return chars <= PLAIN | set(SYMBOLS) | {"√"}


def _word(word):
    """An identifier: a name with underscores (b_hid_j), a function name, or a single symbol."""
    head, *subs = word.split("_")
    if len(head) == 2 and not subs and head[0].islower() != head[1].islower() and head[0] not in "dg":
        return f"{head[0]} {head[1]}"  # a product of two one-letter symbols: Wh, vW (not dW, gW: names)
    tex = (rf"\{head}" if head in FUNCTIONS else rf"\operatorname{{{head}}}" if head in OPERATORS else
           rf"\mathrm{{{head}}}" if len(head) > 1 and not head.isdigit() else head)
    if subs:
        parts = [s if len(s) <= 1 or s.isdigit() else rf"\mathrm{{{s}}}" for s in subs if s]
        if parts:
            tex += "_{" + ",".join(parts) + "}"
    return tex


COMMENT = re.compile(r"^(.*?\S)\s{2,}(\((?:[^()]|\([^()]*\))*\))\s*$")
PROSE = re.compile(r"(?<![\w\\])([A-Za-z]{2,}(?: (?:[A-Za-z]{2,}|a))+)(?![\w(])")


def _to_tex(line):
    """Translate one line of a Unicode equation to TeX; a trailing (comment) and runs of words become text."""
    texts = []

    def stash(tex):  # TeX's text mode refuses a bare _ (W_dec), and # % & are special there too
        texts.append(re.sub(r"([_#%&])", r"\\\1", tex))
        return f"\x00{len(texts) - 1}\x00"

    match = COMMENT.match(line)
    if match:
        line = match.group(1) + "   " + stash(r"\text{" + match.group(2) + "}")
    line = PROSE.sub(lambda m: stash(r"\text{" + m.group(1) + "}") if not set(m.group(1).split()) & FUNCTIONS
                     else m.group(1), line)
    tex = _translate(line)
    return re.sub("\x00(\\d+)\x00", lambda m: texts[int(m.group(1))], tex)


def _translate(line):
    out, i, depth_stack = [], 0, []
    n = len(line)
    while i < n:
        c = line[i]
        nxt = line[i + 1] if i + 1 < n else ""
        if nxt in ACCENTS:  # a letter with a combining accent: x̃ → \tilde{x}
            out.append(f"{ACCENTS[nxt]}{{{SYMBOLS.get(c, c).strip()}}}")
            i += 2
            continue
        if c == " ":
            j = i
            while j < n and line[j] == " ":
                j += 1
            # a wide gap separates two equations; spaces that only align an "=" under the line above do not
            out.append(r"\qquad " if j - i >= 3 and out and j < n and line[j] not in "=←≈∝" else " ")
            i = j
            continue
        if c == "\x00":  # a stashed text: copy it through
            j = line.index("\x00", i + 1)
            out.append(line[i:j + 1])
            i = j + 1
            continue
        if c.isalpha() and c.isascii():
            j = i
            while j < n and (line[j].isascii() and (line[j].isalnum() or line[j] == "_")) and line[j + 1:j + 2] not in ACCENTS:
                j += 1
            if j == i:  # the letter carries an accent (handled above next round)
                out.append(c)
                i += 1
                continue
            word = line[i:j]
            # a subscript opened by a trailing "_" that meets "{" is a TeX group: keep it
            if word.endswith("_"):
                out.append(_word(word[:-1]) + "_")
            else:
                out.append(_word(word))
            i = j
            continue
        if c == "√":
            if nxt == "(":  # √( … ) → \sqrt{ … } with the matching parenthesis
                depth, j = 0, i + 1
                while j < n:
                    depth += line[j] == "("
                    depth -= line[j] == ")"
                    if depth == 0:
                        break
                    j += 1
                out.append(r"\sqrt{" + _to_tex(line[i + 2:j]) + "}")
                i = j + 1
            else:  # √n, √D, √2: the next symbol
                out.append(r"\sqrt{" + _to_tex(nxt) + "}")
                i += 2
            continue
        if c == "{":
            grouping = out and out[-1].endswith(("^", "_"))
            depth_stack.append(grouping)
            out.append("{" if grouping else r"\{")
            i += 1
            continue
        if c == "}":
            grouping = depth_stack.pop() if depth_stack else False
            out.append("}" if grouping else r"\}")
            i += 1
            continue
        if c == "<" or c == ">":
            out.append(r"\lt " if c == "<" else r"\gt ")
            i += 1
            continue
        out.append(SYMBOLS.get(c, c))
        i += 1
    return "".join(out)


def equation_to_tex(block):
    """A dedented block of one or more equation lines → TeX display math (lines left-aligned)."""
    lines = [_to_tex(line.rstrip()) for line in block.splitlines() if line.strip()]
    body = lines[0] if len(lines) == 1 else r"\begin{array}{l}" + r" \\ ".join(lines) + r"\end{array}"
    return body


def typeset_blocks(text):
    """Replace each indented equation block of a docstring by a ``$$ … $$`` display at its paragraph's indent.

    A block is a run of lines after a blank line, indented at least 4 spaces deeper than the text before it.
    """
    lines = text.split("\n")
    out, i, context = [], 0, 0

    def indent(line):
        return len(line) - len(line.lstrip(" "))

    while i < len(lines):
        line = lines[i]
        if line.strip() and i > 0 and not lines[i - 1].strip() and indent(line) >= context + 4:
            j, deep = i, indent(line)
            while j < len(lines) and lines[j].strip() and indent(lines[j]) >= deep:
                j += 1
            block = unicodedata.normalize("NFD", "\n".join(l[deep:] for l in lines[i:j]))  # â → a + ◌̂
            if translatable(block):
                pad = " " * (deep - 4)
                out += [pad + "$$", pad + equation_to_tex(block), pad + "$$"]
            else:
                out += lines[i:j]
            i = j
            continue
        if line.strip():
            context = indent(line)
        out.append(line)
        i += 1
    return "\n".join(out)


SECTION = re.compile(r"^(Parameters|Attributes|Returns|Yields|Raises|Other Parameters)\n-{3,}$", re.M)
ENTRY = re.compile(r"^[\w*][\w, *]*( : .*)?$")


def notes_heading(text):
    """Give a prose paragraph that follows a NumPy section's entries a ``Notes`` heading of its own."""
    match = SECTION.search(text)
    if not match:
        return text
    head, rest = text[:match.end()], text[match.end():]
    paragraphs = rest.split("\n\n")
    for k in range(1, len(paragraphs)):
        first = paragraphs[k].lstrip("\n").split("\n", 1)[0]
        if first and not first.startswith(" ") and not ENTRY.match(first) and not re.match(r"^-{3,}", first) \
                and not (k + 0 < len(paragraphs) and re.match(r"^\w[\w ]*\n-{3,}", paragraphs[k].lstrip("\n"))):
            paragraphs[k] = "Notes\n-----\n" + paragraphs[k].lstrip("\n")
            break
    return head + "\n\n".join(paragraphs)


class UnicodeMath(griffe.Extension):
    """Rewrite every docstring as it is loaded (see the module's docstring)."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = typeset_blocks(notes_heading(obj.docstring.value))
