"""Read a `collabgap export --format chat-jsonl` file: with plain `json`, or as a Hugging Face `datasets` Dataset.

    collabgap export runs/my-run --out train.jsonl
    python docs/examples/load_export.py train.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def read_examples(path: Path) -> list[dict[str, Any]]:
    """Every example of the file, one per line: `{"messages": [...], "metadata": {...}}`."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def load_with_datasets(path: Path, cache_dir: Path | None = None) -> Any:
    """The file as a `datasets.Dataset` (`pip install datasets`).

    The features are given, not inferred: `datasets` reads a large file in 10 MB chunks and infers each chunk's
    types on its own, so a chunk without tool calls, or with `null` everywhere in a column, would not match the
    next one. Keys a message does not have (`tool_calls` outside tool rounds) load as None.
    """
    from datasets import Features, List, Value, load_dataset

    text = Value("string")
    features = Features({
        "messages": List({"role": text, "content": text, "tool_call_id": text,
                          "tool_calls": List({"id": text, "type": text,
                                              "function": {"name": text, "arguments": text}})}),
        "metadata": {"run_id": text, "episode_id": text, "seat": text, "agent": text, "model": text,
                     "condition": text, "relay": text, "mode": text, "maze_size": Value("int64"),
                     "maze_seed": Value("int64"), "status": text, "end_reason": text, "weighted": Value("float64"),
                     "solved": Value("bool")},
    })
    return load_dataset("json", data_files=str(path), split="train", features=features,
                        cache_dir=str(cache_dir) if cache_dir else None)


if __name__ == "__main__":
    file = Path(sys.argv[1])
    examples = read_examples(file)
    print(f"{len(examples)} examples; the first ends with: {examples[0]['messages'][-1]['content'][:80]!r}")
    print(load_with_datasets(file))
