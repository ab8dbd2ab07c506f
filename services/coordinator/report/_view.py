"""`collabgap view`: a local web app over the results store, read-only: runs (live), a run's analysis, its episodes
filtered and searched, and each episode's maps, replay and transcript.

    app = create_view_app(ViewSource("runs"))        # a runs folder, one run folder, or a store URL
    uvicorn.run(app, host="127.0.0.1", port=8780)

The app only reads: SQLite stores are opened read-only, so it can watch a run while the run writes. Pages are
server-rendered HTML (`_view_pages`) plus two scripts served as files: the report's transcript viewer, and a poller
that keeps the progress of each run on the page current.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Sequence
from html import escape
from pathlib import Path
from typing import get_args

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._errors import ConfigError, StoreError
from ..analysis._analysis import Analysis, analyze
from ..analysis._stats import CellKey
from ._report_html import run_settings
from ._store_reader import EpisodeFilter, RunInfo, SortKey, StoreReader
from ._view_pages import PAGE_SIZE, episode_page, episodes_page, page, run_json, run_page, runs_page

POLL_S = 2.0
ASSETS = "collabgap.services.coordinator.report"
"""The package whose `view/` and `static/` folders the pages load."""
"""How often an open page asks for the runs' progress."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
"""Scripts only from the app itself: nothing an agent wrote can run, even if it got into the markup."""
_FILTERS = ("condition", "mode", "status", "agent", "error_kind", "blame")
_SORTS: dict[str, SortKey] = {key: key for key in get_args(SortKey)}


class ViewSource:
    """Where the view finds its runs: a runs folder (each `<run>/store.db`, rescanned on every look, so new runs
    appear), one run folder or `store.db` file, or a store URL (PostgreSQL)."""

    def __init__(self, location: str | Path) -> None:
        """Raises `ConfigError` when `location` is neither a folder, a store file nor a URL."""
        self._lock = threading.Lock()
        self._readers: dict[str, StoreReader] = {}
        self._url: str | None = None
        self._folder: Path | None = None
        text = str(location)
        if "://" in text:
            self._url = text
            self._reader(text)  # a URL that cannot be read fails now, not on the first page
        elif Path(text).is_file():
            self._url = f"sqlite:///{Path(text).resolve()}"
        elif Path(text).is_dir():
            self._folder = Path(text)
        else:
            raise ConfigError(f"{text} is neither a runs folder, a run folder, a store.db nor a store URL")

    def _urls(self) -> list[str]:
        if self._url is not None:
            return [self._url]
        assert self._folder is not None
        files = [self._folder / "store.db", *sorted(self._folder.glob("*/store.db"))]
        return [f"sqlite:///{path.resolve()}" for path in files if path.is_file()]

    def _reader(self, url: str) -> StoreReader:
        with self._lock:
            if url not in self._readers:
                self._readers[url] = StoreReader.open(url)
            return self._readers[url]

    def runs(self) -> tuple[list[tuple[StoreReader, RunInfo]], list[str]]:
        """Every run found, with the reader of its store, and why any store could not be read."""
        found: dict[str, tuple[StoreReader, RunInfo]] = {}
        problems = []
        for url in self._urls():
            try:
                reader = self._reader(url)
                for run in reader.runs():
                    if run.run_id in found:
                        problems.append(f"run {run.run_id!r} is also in {url}; the view shows the first one")
                    else:
                        found[run.run_id] = (reader, run)
            except StoreError as exc:
                problems.append(str(exc))
        return list(found.values()), problems

    def find(self, run_id: str) -> tuple[StoreReader, RunInfo]:
        """The run and its store's reader; 404 when no store holds it."""
        for reader, run in self.runs()[0]:
            if run.run_id == run_id:
                return reader, run
        raise HTTPException(404, f"no run {run_id!r} here")

    def close(self) -> None:
        with self._lock:
            for reader in self._readers.values():
                reader.close()
            self._readers.clear()


class _Analyses:
    """The analysis and settings of each run, made again only when the run stored or replaced an episode since."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[str, tuple[tuple[int, int], Analysis, list[tuple[str, str]]]] = {}

    def of(self, reader: StoreReader, run_id: str) -> tuple[Analysis, list[tuple[str, str]]]:
        fingerprint = reader.fingerprint(run_id)
        with self._lock:
            made = self._made.get(run_id)
        if made is not None and made[0] == fingerprint:
            return made[1], made[2]
        records = reader.records(run_id)
        analysis, settings = analyze(records), run_settings(records)
        with self._lock:
            self._made[run_id] = (fingerprint, analysis, settings)
        return analysis, settings


def _html(text: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status_code, headers={"Content-Security-Policy": CSP})


def parse_filter(request: Request) -> EpisodeFilter:
    """The episode filter in a request's query (`_view_pages.filter_params` writes it); 400 when malformed."""
    query = request.query_params
    values: dict[str, object] = {name: query[name] for name in _FILTERS if query.get(name)}
    if query.get("q"):
        values["search"] = query["q"]
    if query.get("cell"):
        try:
            fields = json.loads(query["cell"])
            values["cell"] = CellKey.model_validate(dict(zip(CellKey.model_fields, fields, strict=True)))
        except (ValueError, TypeError) as exc:
            raise HTTPException(400, "cell must be the JSON list of a cell's key fields") from exc
    try:
        return EpisodeFilter.model_validate(values)
    except ValidationError as exc:
        raise HTTPException(400, f"bad filter: {exc.error_count()} errors") from exc


def create_view_app(source: ViewSource, *, poll_s: float = POLL_S,
                    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS) -> Starlette:
    """The view over `source`; pages poll for progress every `poll_s` seconds (0: never).

    `allowed_hosts` are the Host headers it answers (loopback names by default), so a web page elsewhere cannot
    read transcripts through a DNS name rebound to this machine; pass `("*",)` when you serve it on purpose.
    """
    poll_ms = round(poll_s * 1000)
    analyses = _Analyses()

    def home(request: Request) -> Response:
        found, problems = source.runs()
        return _html(runs_page([run for _, run in found], problems, poll_ms=poll_ms))

    def runs_json(request: Request) -> Response:
        return JSONResponse([run_json(run) for _, run in source.runs()[0]])

    def run(request: Request) -> Response:
        reader, info = source.find(request.path_params["run_id"])
        analysis, settings = analyses.of(reader, info.run_id)
        return _html(run_page(info, analysis, settings, poll_ms=poll_ms))

    def episodes(request: Request) -> Response:
        reader, info = source.find(request.path_params["run_id"])
        where = parse_filter(request)
        sort = _SORTS.get(request.query_params.get("sort", "saved"))
        if sort is None:
            raise HTTPException(400, f"sort by one of {', '.join(_SORTS)}")
        try:
            number = int(request.query_params.get("page", "1"))
        except ValueError as exc:
            raise HTTPException(400, "page must be a number") from exc
        descending = request.query_params.get("desc") == "1"
        found = reader.episode_page(info.run_id, where, sort=sort, descending=descending,
                                    offset=max(number - 1, 0) * PAGE_SIZE, limit=PAGE_SIZE)
        label = " · ".join(str(v) for v in where.cell if v is not None) if where.cell is not None else None
        return _html(episodes_page(info, where, found, reader.facets(info.run_id), sort=sort, descending=descending,
                                   cell_label=label))

    def episode(request: Request) -> Response:
        reader, info = source.find(request.path_params["run_id"])
        record = reader.record(info.run_id, request.path_params["episode_id"])
        if record is None:
            raise HTTPException(404, f"run {info.run_id!r} has no episode {request.path_params['episode_id']!r}")
        return _html(episode_page(info.run_id, record))

    def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _html(page(f"Error {exc.status_code}", f'<p class="error-box">{escape(exc.detail)}</p>'),
                     exc.status_code)

    async def store_error(request: Request, exc: Exception) -> Response:
        return _html(page("The store cannot be read", f'<p class="error-box">{escape(str(exc))}</p>'), 503)

    routes = [
        Route("/", home), Route("/api/runs", runs_json), Route("/healthz", healthz),
        Route("/runs/{run_id}", run), Route("/runs/{run_id}/episodes", episodes),
        Route("/runs/{run_id}/episode/{episode_id:path}", episode),
        Mount("/static", StaticFiles(packages=[(ASSETS, "view"), (ASSETS, "static")])),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        source.close()

    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))],
                     exception_handlers={HTTPException: http_error, StoreError: store_error}, lifespan=lifespan)
