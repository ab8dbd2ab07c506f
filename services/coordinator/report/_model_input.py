"""What each model saw, laid out for the transcript viewer.

Agents report each model request compactly (`protocol.ModelCall`): how many leading messages it shares with the
request before it, and the rest. Written out in full, a game's requests grow quadratically, so here each request
becomes a length into one of a few conversations, and the page holds each message about once.
"""

from __future__ import annotations

from collections.abc import Sequence

from collabgap.protocol import ModelCall, ModelMessage, expand_calls


class RequestIndex:
    """The model requests of one episode, as prefixes of shared conversations."""

    def __init__(self) -> None:
        self.conversations: list[list[dict[str, object]]] = []
        """Messages as JSON objects (default fields left out); a request is the first `length` of one of these."""
        self._last: dict[str, tuple[int, list[ModelMessage]]] = {}

    def add(self, chain: str, calls: Sequence[ModelCall]) -> list[dict[str, int]]:
        """Where the full request of each call lies: `conversation`, its first `length` messages, and `missing`,
        the leading messages no report holds (0 when the request is whole).

        `chain` names the conversation the calls continue: the seat, or the grader.
        """
        places: list[dict[str, int]] = []
        for call in calls:
            index, previous = self._last.get(chain, (-1, []))
            missing = 0
            try:
                [request] = expand_calls([call], previous)
            except ValueError:  # an earlier report was left out or dropped: show what this one holds
                missing, request = call.shared, list(call.messages)
            if not missing and index >= 0 and call.shared == len(previous) == len(self.conversations[index]):
                self.conversations[index].extend(_json(message) for message in call.messages)
            else:
                index = len(self.conversations)
                self.conversations.append([_json(message) for message in request])
            self._last[chain] = index, request
            places.append({"conversation": index, "length": len(request), "missing": missing})
        return places


def _json(message: ModelMessage) -> dict[str, object]:
    return message.model_dump(mode="json", exclude_defaults=True)
