"""One episode: the relay between the seats, the clients that reach an agent (A2A, its card) and the referee (MCP), the
prompts the coordinator speaks, prices, the engine that plays episodes over held connections with retries
(`Episodes`), and `run_episodes` for many episodes in memory.

It owns everything that happens between "these seats play this maze" and the episode's record. It imports only
`protocol`, `services.shared`, the coordinator's shared `_errors` and `_records`, and never a run, a store or a
report.
"""
