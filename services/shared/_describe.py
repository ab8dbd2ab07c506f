"""How a failed call across the network is named: the exception and the causes behind it, so a message says what
failed even when a library's own message is empty (issue 10)."""

from __future__ import annotations


def describe(exc: BaseException) -> str:
    """An exception and the causes behind it, each named: `ReadError` alone says nothing, so the chain does."""
    parts: list[str] = []
    seen: BaseException | None = exc
    for _ in range(8):  # a chain can loop back on itself
        if seen is None or len(parts) == 4:
            break
        text = str(seen).strip()
        part = f"{type(seen).__name__}: {text}" if text else type(seen).__name__
        if not parts or part != parts[-1]:  # a library re-raising the same error as itself adds nothing
            parts.append(part)
        seen = seen.__cause__ or seen.__context__
    return " <- ".join(parts)
