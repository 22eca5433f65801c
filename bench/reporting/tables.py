"""Tables as plain rows, rendered to Markdown or LaTeX (booktabs) with tabulate."""
from __future__ import annotations

import math


def fmt_pct(x) -> str:
    """Fractions are stored; tables show percentages with one decimal."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.1f}"


def fmt_num(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def fmt_estimate(est, scale: float = 100.0, digits: int = 1) -> str:
    """'66.1 [62.0, 70.1]' for one run; '66.1 ± 1.2 [61.0, 69.0]' (mean ± std over seeds) for
    several."""
    if est is None:
        return "-"
    f = f"{{:.{digits}f}}"
    spread = f" ± {f.format(scale * est.std)}" if est.std is not None else ""
    return (f"{f.format(scale * est.value)}{spread} "
            f"[{f.format(scale * est.low)}, {f.format(scale * est.high)}]")


def markdown_table(headers: list[str], rows: list[list]) -> str:
    from tabulate import tabulate

    cells = lambda row: [markdown_cell(c) for c in row]  # noqa: E731
    return tabulate([cells(r) for r in rows], headers=cells(headers), tablefmt="github",
                    disable_numparse=True)


def markdown_cell(value) -> str:
    """One table cell on one line: a '|' would end the cell and a newline the row (class names
    and generated text come from data and models)."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(text.split()) if any(c in text for c in "\r\n") else text


_LATEX_SYMBOLS = {"±": r"$\pm$", "−": "-", "–": "--", "—": "---", "×": r"$\times$",
                  "→": r"$\rightarrow$", "≤": r"$\leq$", "≥": r"$\geq$"}


def latex_escape(text: str) -> str:
    """Escaped for LaTeX; symbols we use get math forms, other non-ASCII is transliterated (or
    dropped) so pdflatex never stops on an unknown character in a generated explanation."""
    import unicodedata

    out = _escape_ascii(str(text))
    for char, repl in _LATEX_SYMBOLS.items():
        out = out.replace(char, repl)
    out = unicodedata.normalize("NFKD", out)
    return out.encode("ascii", "ignore").decode("ascii")


def _escape_ascii(out: str) -> str:
    for char, repl in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                       ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"),
                       ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}"),
                       ("<", "$<$"), (">", "$>$"), ("|", "$|$")):
        out = out.replace(char, repl) if char != "\\" else out.replace(char, "\x00")
    return out.replace("\x00", r"\textbackslash{}")


def latex_tabular(headers: list[str], rows: list[list], spec: str | None = None) -> str:
    """booktabs rows; cells are escaped here (tabulate's LaTeX formats would escape them again)."""
    spec, env = spec or "l" * len(headers), "tabular"
    line = lambda cells: " & ".join(latex_escape(c) for c in cells) + r" \\"  # noqa: E731
    return "\n".join([f"\\begin{{{env}}}{{{spec}}}", r"\toprule", line(headers), r"\midrule"]
                     + [line(r) for r in rows] + [r"\bottomrule", f"\\end{{{env}}}"])


_WIDE = 100  # characters per row beyond which a table is scaled to the text width


def latex_table(headers: list[str], rows: list[list], caption: str, label: str,
                spec: str | None = None) -> str:
    """A booktabs table float; wide ones are scaled to the text width unless `spec` sets widths."""
    body = latex_tabular(headers, rows, spec)
    width = sum(max(len(str(c)) for c in col) + 2 for col in zip(headers, *rows))
    if width > _WIDE and spec is None:
        body = "\\resizebox{\\linewidth}{!}{%\n" + body + "}"
    return ("\\begin{table}[htbp]\n\\centering\n\\small\n" + body +
            f"\n\\caption{{{latex_escape(caption)}}}\n\\label{{{label}}}\n\\end{{table}}\n")


def ragged(widths: list[str]) -> str:
    """A column spec of ragged-right paragraph columns of these widths (long text cells)."""
    return "".join(f">{{\\raggedright\\arraybackslash}}p{{{w}}}" for w in widths)


def latex_longtable(headers: list[str], rows: list[list], caption: str, label: str,
                    spec: str | None = None) -> str:
    """A table that may run over pages (per-class accuracy at 120 classes; example
    explanations, whose text cells make rows tall); given column widths (`spec`), a smaller
    font and closer columns fit more on the page."""
    size = "\\footnotesize\\setlength{\\tabcolsep}{3pt}" if spec else "\\small"
    spec = spec or "l" * len(headers)
    line = lambda cells: " & ".join(latex_escape(c) for c in cells) + r" \\"  # noqa: E731
    head = [r"\toprule", line(headers), r"\midrule", r"\endhead", r"\bottomrule", r"\endfoot"]
    return "\n".join([f"{{{size}\\begin{{longtable}}{{{spec}}}",
                      f"\\caption{{{latex_escape(caption)}}}\\label{{{label}}}\\\\"] + head
                     + [line(r) for r in rows] + ["\\end{longtable}}", ""])


def flatten(config: dict, prefix: str = "") -> dict:
    """A nested config as one level of dotted keys."""
    out = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
