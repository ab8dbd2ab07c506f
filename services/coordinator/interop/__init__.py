"""Checking and assessing agents that are not ours: `check-agent` (the card, its interfaces, a probe game) and
the assessor (an agent scored against the built-in partners).

It plays through `game`, plans the assessor's episodes with the run file's planner (`runs`) and summarises through
`analysis`; it never touches a store.
"""
