"""Vendor error text without secrets: the key we sent, and anything else that looks like a key or a token.

A vendor's error may repeat what it was sent ("Incorrect API key provided: sk-..."). Its text goes on into
the agent's log, the JSON-RPC error the coordinator stores, and the report, so `EndpointClient` scrubs it
where it comes in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
_LOOKS_SECRET = re.compile(
    r"\bsk-[A-Za-z0-9_-]{6,}"  # OpenAI and Anthropic keys: sk-…, sk-proj-…, sk-ant-…
    r"|\b(?:AIza|gsk_|xai-|hf_)[A-Za-z0-9_-]{10,}"  # Google, Groq, xAI and Hugging Face keys
    r"|(?i:(?<=bearer )|(?<=token )|(?<=key: )|(?<=key=))[A-Za-z0-9._~+/-]{8,}=*"  # a credential named as one
    r"|\b(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}"  # a long run of letters and digits
)
_REPEATED = re.compile(rf"(?:{re.escape(REDACTED)}){{2,}}")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each of `secrets`, and whatever looks like a key or bearer token, replaced by `[redacted]`."""
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):  # whole, first
        text = text.replace(secret, REDACTED)
    return _REPEATED.sub(REDACTED, _LOOKS_SECRET.sub(REDACTED, text))
