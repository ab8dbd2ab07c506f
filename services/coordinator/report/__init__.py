"""What people read: the terminal tables, the HTML report and its figures, Markdown and LaTeX tables, the
training-data export, and `collabgap view` over a store.

It reads stores through `runs` and numbers through `analysis`; nothing below it imports it.
"""
