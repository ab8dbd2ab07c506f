"""Hypothesis settings for the protocol tests: derandomized, so every run explores the same examples."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("protocol", derandomize=True, database=None, deadline=None, print_blob=False)
"""Use as `@settings(settings.get_profile("protocol"), max_examples=...)`; registering does not load it globally."""
