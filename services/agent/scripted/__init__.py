"""The scripted players' speech and grader: what a cartographer or a follower knows and says, in a pair or a
team, and the offline grader of their paper-mode transcripts (pure; no I/O). The agent's `scripted:` players
speak it from the seat data part; the fake LLM vendor's models speak it from the conversation's text alone.
"""

from __future__ import annotations

from ._grader import grade_transcript
from ._knowledge import Knowledge, Speaker, Style, relayed, team_size
from ._speech import cartographer_says, follower_says

__all__ = [
    "Knowledge", "Speaker", "Style", "cartographer_says", "follower_says", "grade_transcript", "relayed", "team_size",
]
