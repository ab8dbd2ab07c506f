"""What the README and the docs point at exists: the repository's files and folders they name, the Python names
they name (always as `collabgap.…`, the name the code is imported by), and the pages they link to."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from ._pages import DOCS, PAGES, ROOT, blocks

PATH = re.compile(r"`((?:examples|docs|deploy|benchmarks|protocol|referee|services|tests)/[^`\s:]*)")
"""A code span that starts with a folder of this repository, up to a `::` test selector if there is one."""
DOTTED = re.compile(r"`((?:collabgap\.)?(?:protocol|referee|services)\.[A-Za-z_][\w.:]*)`")
FILE_NAME = re.compile(r"\.(md|py|toml|yaml|json|csv|db|html)$")
"""A dotted code span that is a file name (`referee.yaml`), not a Python name."""
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# The A2A TCK's own test paths, in the page about running it; they are in that repository, not in this one.
ELSEWHERE = ("tests/compatibility/",)


def spans(pattern: re.Pattern[str], pages: tuple[Path, ...] = PAGES) -> list[tuple[str, str]]:
    return [(page.name, match.group(1)) for page in pages for match in pattern.finditer(page.read_text())]


def resolves(name: str) -> bool:
    """`collabgap.a.b.c` (or `collabgap.a.b:c`) is a module, or a name defined in one."""
    parts = name.replace(":", ".").split(".")
    for cut in range(len(parts), 1, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_repository_path_the_pages_name_exists() -> None:
    named = [(page, path) for page, path in spans(PATH) if not path.startswith(ELSEWHERE)]
    assert ("statistics.md", "services/coordinator/analysis/_stats.py") in named
    missing = [(page, path) for page, path in named if not list(ROOT.glob(path.rstrip("/")))]
    assert missing == [], "renamed or moved? fix the page"


def test_python_names_are_written_as_collabgap_names() -> None:
    bare = [(page, name) for page, name in spans(DOTTED)
            if not name.startswith("collabgap.") and not FILE_NAME.search(name)]
    assert bare == [], "write collabgap.protocol…, collabgap.referee…, collabgap.services…"


@pytest.mark.parametrize("name", sorted({name for _, name in spans(DOTTED) if name.startswith("collabgap.")}))
def test_every_python_name_the_pages_name_resolves(name: str) -> None:
    assert resolves(name), name


def test_every_link_between_pages_resolves() -> None:
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if not re.match(r"[a-z]+:", target) and not (page.parent / target).exists():
                broken.append((page.name, target))
    assert broken == []


def test_python_blocks_import_by_collabgap_names() -> None:
    """Every `import` in a Python block of the pages names collabgap's packages by their installed names."""
    imports = [(page.name, line.strip()) for page in PAGES for block in blocks(page, "python")
               for line in block.splitlines() if re.match(r"\s*(from|import) (protocol|referee|services)\b", line)]
    assert imports == []


def test_architecture_page_names_every_package_and_is_linked_from_the_readme() -> None:
    page = DOCS / "architecture.md"
    packages = {path.parent.relative_to(ROOT).as_posix() for folder in ("protocol", "referee", "services")
                for path in (ROOT / folder).rglob("__init__.py")}
    named = {path.rstrip("/") for _, path in spans(PATH, (page,))} | set(re.findall(r"`(\w+)/`", page.read_text()))
    unnamed = sorted(p for p in packages if p not in named and p.rsplit("/", 1)[-1] not in named)
    assert unnamed == []
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()
