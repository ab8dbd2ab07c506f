"""Cost from a versioned price table (dollars per million tokens), packaged or the user's own file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from collabgap.protocol import Usage

from .._errors import ConfigError

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")
"""A vendor's snapshot date: `gpt-4.1-2025-04-14` (OpenAI), `claude-sonnet-4-20250514` (Anthropic)."""


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
            packaged = resources.files("collabgap.services.coordinator.game").joinpath("prices.toml")
            text = path.read_text() if path else packaged.read_text()
            data = tomllib.loads(text)
            prices = {model: (float(p["input"]), float(p["output"])) for model, p in data["models"].items()}
            if negative := sorted(model for model, price in prices.items() if min(price) < 0):
                raise ValueError(f"negative price for {', '.join(negative)}")
            return cls(str(data["version"]), prices)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError,
                AttributeError) as exc:
            raise ConfigError(f"price table {path or 'prices.toml'} is unusable: {exc}") from exc

    def price(self, model: str) -> tuple[float, float] | None:
        """(input, output) dollars per million tokens of `model`, or None when the table has no price for it.

        The id is looked up as given, then without a vendor prefix (`openai/gpt-4.1`, `models/gemini-2.5-pro`),
        then without a snapshot date (`gpt-4.1-2025-04-14` → `gpt-4.1`): a dated id listed itself wins.
        """
        bare = model.rsplit("/", 1)[-1]
        for candidate in (model, bare, _DATE_SUFFIX.sub("", bare)):
            if candidate in self.prices:
                return self.prices[candidate]
        return None

    def priced(self, model: str) -> bool:
        """Whether the table prices `model` (a dollar cap is only as good as this)."""
        return self.price(model) is not None

    def cost(self, usage: Usage | None) -> float | None:
        """Dollars for `usage`; None when there is no usage or the model has no price."""
        if usage is None or (price := self.price(usage.model)) is None:
            return None
        per_input, per_output = price
        # OpenAI counts reasoning tokens inside completion_tokens; we never add them twice.
        return (usage.prompt_tokens * per_input + usage.completion_tokens * per_output) / 1_000_000
