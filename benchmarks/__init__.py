"""collabgap's benchmarks: `harness.py` measures speed against the goals of issue 10 (docs/performance.md),
`maze_distribution.py` describes generated maze sets (docs/maze.md). Not part of the installed packages."""
