"""The README's snippets are true: its run file loads, its Quick start has exactly two lines."""

from __future__ import annotations

import re
from pathlib import Path

from collabgap.services.coordinator import load_run_file, plan_run

README = Path(__file__).parents[2] / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_quick_start_is_two_commands() -> None:
    quick = README.read_text().split("## Quick start", 1)[1]
    first_block = re.search(r"```\w*\n(.*?)```", quick, flags=re.DOTALL)
    assert first_block is not None
    lines = first_block.group(1).strip().splitlines()
    assert len(lines) == 2 and "collabgap demo" in lines[0] and "pytest" in lines[1]


def test_the_run_file_in_the_readme_is_valid(tmp_path: Path) -> None:
    [text] = blocks("toml")
    path = tmp_path / "run.toml"
    path.write_text(text)
    run = load_run_file(path, environ={"OPENAI_API_KEY": "k", "THEIR_TOKEN": "t"})
    plan = plan_run(run, path)
    kinds = {spec.relay.kind if spec.relay else spec.condition for spec in plan}
    assert kinds == {"solo-full", "pair", "primer"}
    assert len(plan) == 20 * (2 + 9 + 4)


def test_blocks_that_start_services_use_their_own_ports_and_stop_them() -> None:
    """Run top to bottom, the README leaves nothing running, and no block plays an agent an earlier one started."""
    owner: dict[str, int] = {}
    for index, block in enumerate(blocks("bash")):
        lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
        started = [line for line in lines if line.endswith("&")]
        if not started:
            continue
        for port in re.findall(r"--port (\d+)", "\n".join(started)):
            assert owner.setdefault(port, index) == index, f"port {port} is started by two blocks"
        assert lines[-1] == "kill " + " ".join(f"%{job}" for job in range(1, len(started) + 1)), block
        used = set(re.findall(r"127\.0\.0\.1:(\d+)", block))
        assert used <= {port for port, at in owner.items() if at == index}, f"a block plays another's agent: {block}"
