"""Checking and assessing agents that are not ours: `check-agent` (the card, its interfaces, a probe game) and
the assessor (an agent scored against the built-in partners).

It plays through `game`, plans the assessor's episodes with the run file's planner (`runs`) and summarises through
`analysis`; it never touches a store.
"""

from __future__ import annotations

from ._assessor import AssessmentConfig, AssessmentResult, AssessorSettings, create_assessor_app
from ._check import CheckReport, check_agent, check_report_json, render_check_report
from ._check_card import Check

__all__ = [
    "AssessmentConfig", "AssessmentResult", "AssessorSettings", "Check", "CheckReport", "check_agent",
    "check_report_json", "create_assessor_app", "render_check_report",
]
