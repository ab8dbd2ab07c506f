"""What people read: the terminal tables, the HTML report and its figures, Markdown and LaTeX tables, the
training-data export, and `collabgap view` over a store.

It reads stores through `runs` and numbers through `analysis`; nothing below it imports it.
"""

from __future__ import annotations

from ._export import ExportOptions, ExportTally, chat_examples, write_jsonl
from ._report import ReportFiles, build_report, terminal_tables

__all__ = [
    "ExportOptions", "ExportTally", "ReportFiles", "build_report", "chat_examples", "terminal_tables", "write_jsonl",
]
