"""The human seat's web pages: the lobby of waiting games, each game's page, and its live state.

Everything a partner, an agent or the task wrote is untrusted: it reaches markup through `html.escape` only, and
the page's script writes it with `textContent`. Scripts come from the app alone (`CSP`). A game's page and its
state need the game's secret, which only the browser that joined it holds (an HttpOnly, SameSite=Strict cookie
limited to the game's path); with a token, every page needs the token's cookie as well, set once at `/login`.
"""

from __future__ import annotations

import hmac
import time
from html import escape
from importlib import resources
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from collabgap.protocol import render_map

from ._app import AgentSettings, Pages, create_agent_app
from ._executor import SeatExecutor, about_text
from ._human import MAX_REPLY_CHARS, HumanDesk, HumanGame, HumanPlayer, HumanSettings, Line
from ._player_spec import HUMAN_PLAYER

ACCESS_COOKIE = "collabgap-access"
POLL_WAIT_S = 20.0
"""How long a state request waits for a change before it answers unchanged (the page asks again at once)."""
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store"}
LABELS = {"partner": "Partner", "you": "You", "referee": "Referee", "task": "Task giver"}


def _asset(name: str) -> str:
    return resources.files("collabgap.services.agent").joinpath(f"human/{name}").read_text(encoding="utf-8")


def _page(title: str, body: str, *, status: int = 200, script: bool = False, refresh_s: int = 0) -> HTMLResponse:
    """A whole page; `body` is markup already escaped, `title` plain text."""
    head = f'<meta http-equiv="refresh" content="{refresh_s}">' if refresh_s else ""
    html = _asset("page.html").format_map({
        "title": escape(title), "head": head, "body": body,
        "scripts": '<script src="/assets/human.js"></script>' if script else ""})
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _cookie(key: str) -> str:
    return f"collabgap-game-{key}"


def _about(game: HumanGame) -> str:
    start = game.start
    return f"seat {start.seat} · {start.condition} · {start.mode} mode · {start.size}×{start.size} maze"


def lobby_page(desk: HumanDesk) -> HTMLResponse:
    waiting = desk.waiting()
    rows = "".join(
        f'<tr data-game="{escape(game.key)}"><td>{escape(game.key)}</td><td>{escape(_about(game))}</td>'
        f'<td>{escape(time.strftime("%H:%M:%S", time.localtime(game.opened)))}</td>'
        f'<td><form method="post" action="/join/{escape(game.key)}"><button type="submit">Join</button></form>'
        "</td></tr>"
        for game in waiting)
    listing = (f'<table id="lobby"><thead><tr><th>game</th><th>seat</th><th>opened</th><th></th></tr></thead>'
               f"<tbody>{rows}</tbody></table>" if waiting else
               '<p id="no-games">No game is waiting for a person right now. This page looks again every few '
               "seconds.</p>")
    body = ("<h1>Games waiting for a person</h1><p>Join a game to play its seat. The game then belongs to this "
            f"browser: nobody else can see it. Each message must be sent within {desk.reply_timeout_s:g} s, "
            f"or the game ends as your timeout.</p>{listing}")
    return _page("games waiting", body, refresh_s=3)


def _line(line: Line) -> dict[str, str]:
    return {"who": line.who, "label": LABELS[line.who], "text": line.text}


def game_state(game: HumanGame) -> dict[str, object]:
    """What the page shows that changes: its script renders it."""
    left = None if game.deadline is None else max(0.0, game.deadline - time.monotonic())
    return {"version": game.version, "your_turn": game.your_turn, "over": game.over, "seconds_left": left,
            "lines": [_line(line) for line in game.lines]}


def _status(game: HumanGame) -> str:
    if game.over is not None:
        return game.over
    return "Your turn: write your message." if game.your_turn else "Waiting for your partner…"


def game_page(game: HumanGame) -> HTMLResponse:
    start = game.start
    count = len(start.maps)
    names = [f"Map {i + 1} of {count}" for i in range(count)] if count > 1 else ["Your map"]
    maps = "".join(f'<figure><figcaption>{escape(name)}</figcaption><pre class="map">{escape(render_map(rows))}</pre>'
                   "</figure>" for name, rows in zip(names, start.maps, strict=True))
    task = "".join(f'<pre class="task">{escape(text)}</pre>' for text in game.task)
    lines = "".join(f'<li class="line {escape(line.who)}"><span class="who">{escape(LABELS[line.who])}</span>'
                    f"<pre>{escape(line.text)}</pre></li>" for line in game.lines)
    voting = start.mode == "referee" and start.move_channel == "message"
    buttons = "".join(f'<button type="button" class="move" data-move="{d}">MOVE: {d}</button>'
                      for d in ("up", "down", "left", "right"))
    moves = f'<div id="moves" role="group" aria-label="vote">{buttons}</div>' if voting else ""
    body = (f'<div id="game" data-key="{escape(game.key)}" data-version="{game.version}">'
            f"<h1>Game {escape(game.key)}</h1><p>{escape(_about(game))}</p>"
            f'<p id="status" role="status">{escape(_status(game))}</p>'
            f'<section class="maps"><h2>Your map</h2>{maps}<p class="legend">{escape(start.legend)}</p></section>'
            f'<section><h2>Your task, in the words a model reads</h2>{task}</section>'
            f'<section><h2>Conversation</h2><ol id="conversation">{lines}</ol></section>'
            f'<form id="reply" method="post" action="/play/{escape(game.key)}/reply">'
            f'<label for="text">Your message</label><textarea id="text" name="text" rows="6" '
            f'maxlength="{MAX_REPLY_CHARS}"></textarea>{moves}<button type="submit" id="send">Send</button>'
            '<p id="problem" role="alert"></p></form></div>')
    return _page(f"game {game.key}", body, script=True)


async def _form(request: Request) -> dict[str, str]:
    fields = parse_qs((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def human_pages(desk: HumanDesk, settings: HumanSettings) -> Pages:
    """The lobby, the game pages and their assets, and the token's login form."""

    def own_game(request: Request) -> HumanGame:
        key = request.path_params["key"]
        game = desk.game(key, request.cookies.get(_cookie(key), ""))
        if game is None:
            raise HTTPException(403, "this game belongs to the browser that joined it")
        return game

    async def lobby(request: Request) -> Response:
        return lobby_page(desk)

    async def join(request: Request) -> Response:
        game = desk.join(request.path_params["key"])
        if game is None:
            return _page("game taken", "<h1>This game is not waiting</h1><p>Someone joined it, or it is over. "
                                       '<a href="/">Back to the games waiting</a>.</p>', status=409)
        response = RedirectResponse(f"/play/{game.key}", status_code=303)
        response.set_cookie(_cookie(game.key), game.secret, path=f"/play/{game.key}", httponly=True,
                            samesite="strict")
        return response

    async def play(request: Request) -> Response:
        return game_page(own_game(request))

    async def state(request: Request) -> Response:
        game = own_game(request)
        try:
            version = int(request.query_params.get("version", "-1"))
        except ValueError:
            version = -1
        await game.changed(version, POLL_WAIT_S)
        return JSONResponse(game_state(game), headers={"Cache-Control": "no-store"})

    async def reply(request: Request) -> Response:
        game = own_game(request)
        text = (await _form(request)).get("text", "").strip()
        problem = ("write a message first" if not text else
                   f"a message holds at most {MAX_REPLY_CHARS} characters" if len(text) > MAX_REPLY_CHARS else
                   None if game.answer(text) else "it is not your turn")
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": problem is None, "problem": problem}, status_code=409 if problem else 200)
        if problem is not None:
            raise HTTPException(409, problem)
        return RedirectResponse(f"/play/{game.key}", status_code=303)

    async def login(request: Request) -> Response:
        if request.method == "POST" and settings.token is not None:
            token = (await _form(request)).get("token", "")
            if hmac.compare_digest(token.encode(), settings.token.get_secret_value().encode()):
                response = RedirectResponse("/", status_code=303)
                response.set_cookie(ACCESS_COOKIE, token, httponly=True, samesite="strict")
                return response
        return login_page(wrong=request.method == "POST")

    return Pages(
        routes=[Route("/", lobby), Route("/join/{key}", join, methods=["POST"]), Route("/play/{key}", play),
                Route("/play/{key}/state", state), Route("/play/{key}/reply", reply, methods=["POST"]),
                Route("/login", login, methods=["GET", "POST"]), Route("/favicon.ico", _no_icon),
                Mount("/assets", StaticFiles(packages=[("collabgap.services.agent", "human")]))],
        open_paths=("/login", "/assets/human.css", "/favicon.ico"), token_cookie=ACCESS_COOKIE, refused=_refused)


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204)


def login_page(*, wrong: bool = False) -> HTMLResponse:
    problem = '<p id="problem" role="alert">That is not the token.</p>' if wrong else ""
    body = ("<h1>This seat needs its access token</h1><p>Ask whoever runs the study for it.</p>"
            f'{problem}<form method="post" action="/login"><label for="token">Access token</label>'
            '<input type="password" id="token" name="token" autocomplete="off"><button type="submit">Enter</button>'
            "</form>")
    return _page("access token", body, status=401)


def _refused(conn: HTTPConnection, exc: Exception) -> Response:
    """A browser asking for a page without the token gets the login form; any other client 401 JSON."""
    if "text/html" in conn.headers.get("accept", ""):
        return login_page()
    return JSONResponse({"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


def create_human_app(settings: HumanSettings) -> Starlette:
    """The human seat's service: the A2A seat contract of `create_agent_app`, and the people's pages."""
    desk = HumanDesk(settings.reply_timeout_s, settings.max_games)
    agent = AgentSettings(player=HUMAN_PLAYER, public_url=settings.public_url, token=settings.token)
    executor = SeatExecutor(lambda: HumanPlayer(desk), about=about_text(HUMAN_PLAYER), in_task=True)
    return create_agent_app(agent, executor=executor, pages=human_pages(desk, settings))

