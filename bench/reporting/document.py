"""One report built once and written as Markdown and LaTeX (booktabs) side by side."""
from __future__ import annotations

import os
from pathlib import Path

from bench.reporting import tables

_PREAMBLE = ("\\documentclass[10pt]{article}\n"
             "\\usepackage{booktabs}\n\\usepackage{longtable}\n\\usepackage{array}\n"
             "\\usepackage{graphicx}\n"
             "\\usepackage[margin=2cm]{geometry}\n\\begin{document}\n")


class Document:
    def __init__(self, title: str, table_note: str = ""):
        self.title = title
        self.table_note = table_note  # said under every table and in its caption (--limit)
        self.md: list[str] = [f"# {title}", ""]
        self.tex: list[str] = [f"\\section*{{{tables.latex_escape(title)}}}\n"]
        self._labels = 0
        self.columns: set[str] = set()  # every table header, for the appendix to define

    def heading(self, text: str) -> None:
        self.md += [f"## {text}", ""]
        self.tex.append(f"\\subsection*{{{tables.latex_escape(text)}}}\n")

    def para(self, text: str) -> None:
        self.md += [text, ""]
        self.tex.append(tables.latex_escape(text.replace("`", "")) + "\n\n")

    def table(self, headers: list[str], rows: list[list], caption: str, long: bool = False,
              spec: str | None = None) -> None:
        if not rows:
            return
        self.columns.update(headers)
        self._labels += 1
        label = f"tab:{self._labels}"
        self.md += [tables.markdown_table(headers, rows), ""]
        if self.table_note:
            self.md += [f"_{self.table_note}_", ""]
            caption = f"{caption} {self.table_note}"
        self.tex.append(tables.latex_longtable(headers, rows, caption, label, spec) if long
                        else tables.latex_table(headers, rows, caption, label, spec))

    def figure(self, stem: str, caption: str, width: str = "\\linewidth") -> None:
        """A figure written as figures/<stem>.png (Markdown) and .pdf (LaTeX)."""
        self.md += [f"![{caption}](figures/{stem}.png)", ""]
        self.tex.append(f"\\begin{{figure}}[htbp]\\centering\\includegraphics[width={width}]"
                        f"{{figures/{stem}.pdf}}\\caption{{{tables.latex_escape(caption)}}}"
                        f"\\end{{figure}}\n")

    def lines(self, md: list[str], tex: str) -> None:
        self.md += md
        self.tex.append(tex)

    def write(self, out: Path) -> Path:
        """report.md and report.tex under out, each via a temp file and a rename."""
        out.mkdir(parents=True, exist_ok=True)
        texts = {"report.md": "\n".join(self.md) + "\n",
                 "report.tex": _PREAMBLE + "".join(self.tex) + "\\end{document}\n"}
        for name, text in texts.items():
            tmp = out / f".{name}.tmp"
            tmp.write_text(text)
            os.replace(tmp, out / name)
        return out / "report.md"
