"""One episode: the relay between the seats, the clients that reach an agent (A2A) and the referee (MCP), the
prompts the coordinator speaks, prices, and `run_episodes` for many episodes in memory.

It owns everything that happens between "these seats play this maze" and the episode's record. It imports only
`protocol`, the coordinator's shared `_errors` and `_records`, and never a run, a store or a report.
"""
