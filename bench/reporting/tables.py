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


def markdown_table(headers: list[str], rows: list[list]) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def latex_escape(text: str) -> str:
    out = str(text)
    for char, repl in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                       ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"),
                       ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}")):
        out = out.replace(char, repl) if char != "\\" else out.replace(char, "\x00")
    return out.replace("\x00", r"\textbackslash{}")


def latex_table(headers: list[str], rows: list[list], caption: str, label: str) -> str:
    from tabulate import tabulate

    body = tabulate([[latex_escape(c) for c in r] for r in rows],
                    headers=[latex_escape(h) for h in headers], tablefmt="latex_booktabs",
                    disable_numparse=True)
    return ("\\begin{table}[t]\n\\centering\n\\small\n" + body +
            f"\n\\caption{{{latex_escape(caption)}}}\n\\label{{{label}}}\n\\end{{table}}\n")
