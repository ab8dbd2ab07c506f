"""The baseline of every benchmark figure: a bare a2a-sdk 1.3 echo agent, nothing of collabgap in it.

Run: `python benchmarks/_echo_agent.py PORT` (binds 127.0.0.1). Its card has the same shape as a collabgap agent's:
JSON-RPC at `/a2a/jsonrpc/`, HTTP+JSON at `/a2a/rest`, streaming declared; the executor answers every message with
one `Message` holding the same text (pattern A of the SDK: a single message, no task).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

import uvicorn
from a2a.helpers import new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import (
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from starlette.applications import Starlette

HOST = "127.0.0.1"
JSONRPC_PATH = "/a2a/jsonrpc/"
REST_PATH = "/a2a/rest"


class EchoExecutor(AgentExecutor):
    """Replies with the text it was sent."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        await event_queue.enqueue_event(new_text_message(context.get_user_input(), context_id=context.context_id))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        return None


def build_app(port: int) -> Starlette:
    base = f"http://{HOST}:{port}"
    card = AgentCard(
        name="echo", description="Bare a2a-sdk echo agent (collabgap benchmark baseline).", version="1",
        supported_interfaces=[
            AgentInterface(protocol_binding="JSONRPC", protocol_version="1.0", url=f"{base}{JSONRPC_PATH}"),
            AgentInterface(protocol_binding="HTTP+JSON", protocol_version="1.0", url=f"{base}{REST_PATH}"),
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain"], default_output_modes=["text/plain"],
        skills=[AgentSkill(id="echo", name="Echo", description="Echoes its input.", tags=["benchmark"],
                           examples=["ping"])],
    )
    handler = DefaultRequestHandler(agent_executor=EchoExecutor(), task_store=InMemoryTaskStore(), agent_card=card)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await handler.aclose()

    return Starlette(
        routes=[
            *create_agent_card_routes(card),
            *create_jsonrpc_routes(handler, rpc_url=JSONRPC_PATH),
            *create_rest_routes(handler, path_prefix=REST_PATH),
        ],
        lifespan=lifespan,
    )


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not argv[0].isdigit():
        raise SystemExit("usage: python benchmarks/_echo_agent.py PORT")
    port = int(argv[0])
    uvicorn.run(build_app(port), host=HOST, port=port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
