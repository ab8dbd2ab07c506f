"""What generated maze sets look like: optimal route length, goal cell and realised wall fraction.

    python benchmarks/maze_distribution.py                     # the default set: 6x6, seeds 0-999
    python benchmarks/maze_distribution.py --goal any --count 200 --sizes 6 12 18

Prints markdown tables, as pasted into docs/maze.md. Pure generation: no services, a few seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from collabgap.protocol import Maze, MazeParams, generate_maze  # noqa: E402

TOP_GOALS = 10
"""Goal cells listed one by one; the rest are summed in one row."""


def _mazes(size: int, args: argparse.Namespace) -> tuple[MazeParams, list[Maze]]:
    first = MazeParams(size=size, wall_density=args.wall_density, goal=args.goal, seed=args.seed)
    mazes = [generate_maze(first.model_copy(update={"seed": args.seed + i})) for i in range(args.count)]
    return first, mazes


def _share(count: int, total: int) -> str:
    return f"{count} | {100 * count / total:.1f}%"


def _describe(params: MazeParams, mazes: list[Maze]) -> None:
    total = len(mazes)
    low, high = params.path_range
    print(f"#### {params.size}x{params.size}, wall_density {params.wall_density:.2f}, goal {params.goal!r}, "
          f"path range {low}-{high}, seeds {params.seed}-{params.seed + total - 1}\n")
    lengths = Counter(maze.optimal_length for maze in mazes)
    print("| optimal length | mazes | share |\n|---|---|---|")
    for length in sorted(lengths, key=lambda n: n or 0):
        print(f"| {length} | {_share(lengths[length], total)} |")
    known = [maze.optimal_length or 0 for maze in mazes]
    print(f"\nmean {statistics.mean(known):.2f}, median {statistics.median(known):g}\n")
    goals = Counter(maze.goal for maze in mazes).most_common()
    print("| goal cell (row, col) | mazes | share |\n|---|---|---|")
    for cell, count in goals[:TOP_GOALS]:
        print(f"| {cell} | {_share(count, total)} |")
    if rest := goals[TOP_GOALS:]:
        print(f"| {len(rest)} other cells | {_share(sum(count for _, count in rest), total)} |")
    fractions = sorted(maze.wall_fraction for maze in mazes)
    print(f"\nrealised wall fraction: mean {statistics.mean(fractions):.3f}, "
          f"min {fractions[0]:.3f}, median {statistics.median(fractions):.3f}, max {fractions[-1]:.3f}\n")


def _summary(rows: list[tuple[MazeParams, list[Maze]]]) -> None:
    print("| size | path range | optimal length: min / mean / max | goal on the far corner | mean wall fraction |")
    print("|---|---|---|---|---|")
    for params, mazes in rows:
        lengths = [maze.optimal_length or 0 for maze in mazes]
        low, high = params.path_range
        corner = sum(maze.goal == (params.size - 1, params.size - 1) for maze in mazes)
        print(f"| {params.size}x{params.size} | {low}-{high} | {min(lengths)} / {statistics.mean(lengths):.1f} / "
              f"{max(lengths)} | {100 * corner / len(mazes):.0f}% | "
              f"{statistics.mean(m.wall_fraction for m in mazes):.3f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 12, 18])
    parser.add_argument("--count", type=int, default=1000, help="mazes per size (seeds seed .. seed+count-1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wall-density", type=float, default=MazeParams().wall_density)
    parser.add_argument("--goal", choices=["any", "bottom-right"], default=MazeParams().goal)
    args = parser.parse_args()
    sets = [_mazes(size, args) for size in args.sizes]
    _describe(*sets[0])
    _summary(sets)


if __name__ == "__main__":
    main()
