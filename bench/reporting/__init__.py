"""Reports: Markdown and LaTeX tables, seaborn figures, assembled per suite or ablation."""
