"""A run: the run file and its plan, the engine that plays each planned episode with retries, the store, the
claims that let runners share it, the budget, the services a run starts and waits for, and the two runs built in
Python (`demo`, `play`).

It builds on `game` (one episode, an agent's card) and `analysis`; it never imports `interop`, `report` or
`scale`: the assessor (`interop`) plans with it, and the Ray backend plugs into `execute_run` as a `Backend`.
"""
