"""Cost from a versioned price table (dollars per million tokens), packaged or the user's own file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from protocol import Usage

from ._errors import ConfigError


@dataclass(frozen=True)
class PriceTable:
    version: str
    prices: dict[str, tuple[float, float]]
    """Model id → (input, output) dollars per million tokens; reasoning tokens are billed as output."""

    @classmethod
    def load(cls, path: Path | None = None) -> PriceTable:
        """The packaged table, or the file at `path`.

        Raises:
            ConfigError: the file is missing or not a price table.
        """
        try:
            text = path.read_text() if path else resources.files("services.coordinator").joinpath("prices.toml").read_text()
            data = tomllib.loads(text)
            prices = {model: (float(p["input"]), float(p["output"])) for model, p in data["models"].items()}
            return cls(str(data["version"]), prices)
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"price table {path or 'prices.toml'} is unusable: {exc}") from exc

    def cost(self, usage: Usage | None) -> float | None:
        """Dollars for `usage`; None when there is no usage or the model has no price."""
        if usage is None or usage.model not in self.prices:
            return None
        per_input, per_output = self.prices[usage.model]
        # OpenAI counts reasoning tokens inside completion_tokens; we never add them twice.
        return (usage.prompt_tokens * per_input + usage.completion_tokens * per_output) / 1_000_000
