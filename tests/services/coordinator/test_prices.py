"""Issue 9: prices for current models, dated ids and vendor prefixes; an unpriced model is known to be unpriced."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabgap.protocol import Usage
from collabgap.services.coordinator import ConfigError, PriceTable

PACKAGED = PriceTable.load()


@pytest.mark.parametrize(("model", "price"), [
    ("gpt-4.1", (2.00, 8.00)),
    ("gpt-4.1-2025-04-14", (2.00, 8.00)),
    ("gpt-5-mini-2025-08-07", (0.25, 2.00)),
    ("claude-sonnet-4-20250514", (3.00, 15.00)),
    ("claude-haiku-4-5-20251001", (1.00, 5.00)),
    ("openai/gpt-4o-mini", (0.15, 0.60)),
    ("models/gemini-2.5-flash-lite", (0.10, 0.40)),
    ("gpt-4o-2024-08-06", (2.50, 10.00)),
    ("gpt-4o-2024-05-13", (5.00, 15.00)),  # a dated id listed itself keeps its own price
])
def test_dated_and_prefixed_ids_find_their_price(model: str, price: tuple[float, float]) -> None:
    assert PACKAGED.price(model) == price and PACKAGED.priced(model)


@pytest.mark.parametrize("model", ["gpt-7", "gemini-3-pro", "claude-sonnet-4-5-preview", "gpt-4.1-mini-2025"])
def test_an_unpriced_model_has_no_cost_rather_than_zero(model: str) -> None:
    assert not PACKAGED.priced(model)
    assert PACKAGED.cost(Usage(model=model, prompt_tokens=1000, completion_tokens=100)) is None


def test_cost_of_a_dated_id_uses_the_base_price() -> None:
    usage = Usage(model="claude-opus-4-1-20250805", prompt_tokens=2_000_000, completion_tokens=100_000)
    assert PACKAGED.cost(usage) == pytest.approx(2 * 15.00 + 0.1 * 75.00)


def test_every_model_the_issue_names_is_priced_with_the_tables_date() -> None:
    named = ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini", "gpt-5",
             "gpt-5-mini", "gpt-5-nano", "claude-opus-4-1", "claude-opus-4", "claude-sonnet-4-5", "claude-sonnet-4",
             "claude-haiku-4-5", "claude-3-5-haiku", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"]
    assert [model for model in named if not PACKAGED.priced(model)] == []
    assert PACKAGED.version.count("-") == 2  # a date, YYYY-MM-DD


def test_a_users_table_replaces_the_packaged_one(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text('version = "mine"\n[models."house-model"]\ninput = 1.5\noutput = 3\n')
    table = PriceTable.load(path)
    assert table.price("house-model-20260101") == (1.5, 3.0) and not table.priced("gpt-4.1")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="is unusable"):
        PriceTable.load(path)
