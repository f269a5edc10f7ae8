"""The HTTP API: translates requests into scanner calls and job-queue operations, nothing more.

``create_app(settings)`` builds the FastAPI app; its lifespan starts the warm worker pool, opens the
database, re-queues files a dead service left in flight, sweeps the spool and starts the job runner,
and on shutdown finishes or re-queues work in flight. Routes (see ``/docs``):

    POST   /v1/scan                    one document, answered with its result (HTTP 200 whatever the verdict)
    POST   /v1/jobs                    a batch of uploads, or server-side roots → {"id": ...}
    GET    /v1/jobs                    the caller's jobs
    GET    /v1/jobs/{id}               state, counts, progress, ETA
    GET    /v1/jobs/{id}/results       paginated results, filtered, as json | jsonl | csv | sarif
    DELETE /v1/jobs/{id}               cancel and purge
    POST|GET /v1/registry, DELETE /v1/registry/{entry}, GET /v1/registry/verify   (admin)
    GET    /healthz, /readyz           no key needed
    GET    /metrics                    Prometheus text format
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import math
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanner import __version__
from scanner.data import ScanResult
from scanner.engine import ScanJob, ScannerConfig
from scanner.inputs import walk
from scanner.policy import load_policy
from scanner.report import writer_for
from scanner.settings import Settings, get_settings
from scanner.taxonomy import CATEGORIES

from . import errors
from .auth import ApiKey, KeyStore, RateLimiter
from .db import Database
from .errors import Problem, problem_response
from .jobs import JobQueue, JobRunner, NewFile, allowed_root
from .metrics import Metrics, MetricsMiddleware
from .registry import Registry
from .scanning import ScanPool, engine_for, mask
from .spool import Spool, display_name, read_multipart

log = logging.getLogger(__name__)

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
CURSOR = re.compile(r"^[0-9]{1,9}$")
MAX_PAGE = 1000
MAX_ROOTS = 64
MULTIPART_OVERHEAD = 1 << 20  # boundaries and part headers on top of the files themselves
MAX_JSON_BYTES = 8 << 20  # JSON is parsed in memory: bounded per request, whatever the upload limit


# --- request and response models (validation and the OpenAPI schema) ---------------------------
class ScanText(BaseModel):
    """A document given as text instead of an upload."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field("text.txt", max_length=1024, description="the name results report")
    text: str = Field(description="the document's text")
    password: str | None = Field(None, max_length=1024)


class JobRoots(BaseModel):
    """A batch over server-side directories the operator allowed (``MIDIAN_ALLOWED_ROOTS``)."""

    model_config = ConfigDict(extra="forbid")
    roots: list[str] = Field(min_length=1, max_length=MAX_ROOTS, description="absolute directories to scan")


class Location(BaseModel):
    part: str | None = None
    page: int | None = None
    sheet: str | None = None
    cell: str | None = None
    slide: int | None = None
    block: int | None = None
    start: int | None = None
    end: int | None = None
    attachment: str | None = None


class EvidenceModel(BaseModel):
    kind: str
    detail: str
    weight: float


class FindingModel(BaseModel):
    category: str
    score: float
    text: str
    location: Location
    evidence: list[EvidenceModel]


class ScanResultModel(BaseModel):
    """One result per file: the ``midian.scan/1`` object of ``midian scan --format jsonl``."""

    model_config = ConfigDict(extra="allow")
    schema_: str = Field(alias="schema", examples=["midian.scan/1"])
    path: str
    sha256: str
    status: Literal["ok", "encrypted", "corrupt", "unsupported", "too_large", "timeout", "error"]
    error: dict[str, str] | None
    verdict: Literal["confidential", "public", "unknown"]
    score: float
    level: Literal["high", "medium", "low", "none"]
    categories: list[str]
    findings: list[FindingModel]
    warnings: list[str]
    elapsed_ms: float


class JobCreated(BaseModel):
    id: str
    state: str
    total: int


class JobView(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    total: int
    done: int
    progress: float
    eta_s: float | None = None


class JobList(BaseModel):
    items: list[JobView]


class ResultsPage(BaseModel):
    items: list[ScanResultModel]
    next: str | None


class ProblemModel(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None


class Health(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ProblemModel, "content": {errors.PROBLEM_JSON: {}}} for code in codes}


def _body(multipart: dict[str, Any] | None, json_model: type[BaseModel] | None) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if multipart:
        content["multipart/form-data"] = {"schema": multipart}
    if json_model:
        content["application/json"] = {"schema": json_model.model_json_schema()}
    return {"requestBody": {"required": True, "content": content}}


# --- the service: everything the routes need, built once ---------------------------------------
class Service:
    """The service's parts, owned by the app's lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = load_policy(settings.policy_file)
        self.config = ScannerConfig(
            settings=settings,
            policy_file=str(settings.policy_file) if settings.policy_file else None,
            model_dir=str(settings.model_dir) if settings.model_dir else None,
            registry_path=str(settings.registry_file),
        )
        self.keys = KeyStore(settings.keys_file)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.spool = Spool(settings.spool_dir)
        self.pool = ScanPool(self.config)
        self.registry = Registry(settings.registry_file)
        self.db: Database | None = None
        self.queue: JobQueue | None = None
        self.runner: JobRunner | None = None
        self.metrics = Metrics(depth=self._depth)
        self.pending = 0

    def start(self) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.spool.create()
        # Fork the workers first, while this process holds no database connections or extra threads.
        self.pool.start()
        self.db = Database(s.database).create_all()
        self.queue = JobQueue(self.db)
        requeued = self.queue.requeue_running()
        if requeued:
            log.warning("re-queued %d file(s) left in flight by the previous run", requeued)
        swept = self.spool.sweep(self.queue.active_jobs())
        if swept:
            log.info("removed %d spool entries left by the previous run", swept)
        engine = engine_for(s, self.config, self.pool)
        self.runner = JobRunner(self.queue, engine, self.spool, self.policy, self.metrics,
                                allowed_roots=s.allowed_roots).start()

    def stop(self) -> None:
        finished = self.runner.stop(self.settings.shutdown_grace_s) if self.runner else True
        if finished:
            self.pool.close()
        else:
            self.pool.stop()
        if self.db is not None:
            self.db.dispose()

    def _depth(self) -> float:
        try:
            return float(self.queue.depth()) if self.queue else 0.0
        except Exception:  # a scrape must not fail because the database is away
            return math.nan

    async def scan(self, job: ScanJob) -> ScanResult:
        """Scan one file now in a worker; 503 when too many scans are already waiting."""
        if self.pending >= self.settings.max_pending_scans:
            raise Problem(503, "the service is busy: too many scans are waiting for a worker; retry shortly",
                          headers={"Retry-After": "1"})
        self.pending += 1
        self.metrics.pending.inc()
        try:
            result = await self.pool.scan(job)
        finally:
            self.pending -= 1
            self.metrics.pending.dec()
        self.metrics.scanned("scan", result)
        return mask(result, self.policy)

    async def db_call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


_bearer = HTTPBearer(auto_error=False, description="an API key from `midian keys create`, as `Authorization: Bearer <key>`")
_credentials = Security(_bearer)


def caller(role: str) -> Callable[..., Any]:
    """A dependency that authenticates the request's key, checks its role and its rate limit."""

    async def dependency(request: Request, credentials: HTTPAuthorizationCredentials | None = _credentials) -> ApiKey:
        svc = service(request)
        key = svc.keys.authenticate(credentials.credentials if credentials else None)
        if key is None:
            raise Problem(401, "missing or invalid API key", headers={"WWW-Authenticate": 'Bearer realm="midian"'})
        if not key.allows(role):
            raise Problem(403, "this API key's role does not allow this operation")
        wait = svc.limiter.acquire(key.id)
        if wait:
            raise Problem(429, f"rate limit of {svc.settings.rate_limit_per_minute} requests per minute exceeded",
                          headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return key

    return dependency


# --- middleware ---------------------------------------------------------------------------------
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class Guard:
    """Refuses bodies over the size limit (413) and adds security headers to every answer."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in SECURITY_HEADERS if h[0] not in names]
            await send(message)

        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await problem_response(400, "invalid Content-Length")(scope, receive, send_with_headers)
                return
            if int(length) > self.max_body:
                await problem_response(413, f"the request body is larger than {self.max_body} bytes",
                                       headers={"Connection": "close"})(scope, receive, send_with_headers)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise Problem(413, f"the request body is larger than {self.max_body} bytes")
            return message

        await self.app(scope, limited, send_with_headers)


# --- the app -----------------------------------------------------------------------------------
def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI app of the Midian service."""
    settings = settings or get_settings()
    svc = Service(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.start()
        try:
            yield
        finally:
            await asyncio.to_thread(svc.stop)

    app = FastAPI(
        title="Midian",
        version=__version__,
        summary="Find trade secrets in documents before they leave: synchronous checks and batch jobs.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = svc
    errors.install(app)
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.add_middleware(Guard, max_body=settings.max_upload_bytes + MULTIPART_OVERHEAD)
    _routes(app, settings)
    return app


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _json_body(request: Request, model: type[BaseModel], limit: int) -> Any:
    """The JSON body as ``model``; JSON is held in memory, so it has a tighter limit than uploads."""
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise Problem(413, f"JSON bodies are limited to {limit} bytes; upload larger documents as multipart/form-data")
    except ClientDisconnect as exc:
        raise Problem(400, "the client disconnected during the request") from exc
    try:
        return model.model_validate_json(bytes(body))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


async def _owned_job(svc: Service, key: ApiKey, job_id: str) -> None:
    """404 unless the job exists and the caller may see it (other keys' jobs do not exist for it)."""
    owner = await svc.db_call(svc.queue.owner, job_id) if JOB_ID.match(job_id) and svc.queue else None
    if owner is None or (owner != key.id and key.role != "admin"):
        raise Problem(404, "no such job")


def _routes(app: FastAPI, settings: Settings) -> None:
    scan_key = Depends(caller("scan"))
    admin_key = Depends(caller("admin"))
    json_limit = min(MAX_JSON_BYTES, settings.max_upload_bytes)

    @app.get("/healthz", tags=["health"], response_model=Health)
    async def healthz() -> dict[str, Any]:
        """The process is alive (no key needed)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=Health, responses={503: {"model": Health}})
    async def readyz(request: Request) -> JSONResponse:
        """Ready to scan: the workers loaded the model and the database answers (no key needed)."""
        svc = service(request)
        database = bool(svc.db) and await asyncio.to_thread(svc.db.ping)  # type: ignore[union-attr]
        checks = {"model": svc.pool.ready, "database": database}
        ready = all(checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"], responses={200: {"content": {"text/plain": {}}}, **_problems(401, 429)})
    async def metrics(request: Request, key: ApiKey = scan_key) -> Response:
        """Prometheus metrics: requests, latencies, errors by status, files scanned, queue depth."""
        svc = service(request)
        body = await asyncio.to_thread(svc.metrics.render)
        return Response(body, media_type=svc.metrics.content_type)

    @app.post(
        "/v1/scan", tags=["scan"], response_model=ScanResultModel,
        responses=_problems(400, 401, 403, 413, 415, 422, 429, 503),
        openapi_extra=_body({"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "the document"},
            "password": {"type": "string", "description": "password of an encrypted document"}}}, ScanText),
    )
    async def scan(request: Request, key: ApiKey = scan_key) -> JSONResponse:
        """Scan one document now: multipart field `file`, or JSON `{"name", "text"}`.

        The answer is one result object, exactly as a line of `midian scan --format jsonl`, with HTTP
        200 whatever the verdict; a document that cannot be read still gets a result with its status.
        """
        svc = service(request)
        media = _media_type(request)
        directory = svc.spool.scan_dir()
        try:
            if media == "multipart/form-data":
                form = await read_multipart(request, file_field="file", max_files=1,
                                            place=lambda i, name: directory / name, text_fields=("password",))
                if not form.files:
                    raise Problem(400, "the multipart body has no `file` field")
                upload = form.files[0]
                job = ScanJob(path=str(upload.path), display=upload.name, password=form.fields.get("password") or None,
                              sha256=upload.sha256)
            elif media == "application/json":
                body = await _json_body(request, ScanText, json_limit)
                path = directory / "text.txt"
                path.write_text(body.text, encoding="utf-8", errors="replace")
                job = ScanJob(path=str(path), display=display_name(body.name), password=body.password)
            else:
                raise Problem(415, 'send the document as multipart/form-data (field `file`) or as JSON {"name", "text"}')
            result = await svc.scan(job)
        finally:
            svc.spool.discard_dir(directory)
        return JSONResponse(result.to_json())

    @app.post(
        "/v1/jobs", tags=["jobs"], status_code=202, response_model=JobCreated,
        responses=_problems(400, 401, 403, 413, 415, 422, 429),
        openapi_extra=_body({"type": "object", "required": ["files"], "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "the documents"}}},
            JobRoots),
    )
    async def create_job(request: Request, key: ApiKey = scan_key) -> JSONResponse:
        """Start a batch: uploads (multipart field `files`, repeated) or server-side `roots` (JSON)."""
        svc = service(request)
        assert svc.queue is not None and svc.runner is not None
        job_id = uuid.uuid4().hex
        media = _media_type(request)
        roots: list[str] | None = None
        try:
            if media == "multipart/form-data":
                form = await read_multipart(request, file_field="files", max_files=settings.max_files_per_job,
                                            place=lambda i, name: svc.spool.file_dir(job_id, i) / name)
                if not form.files:
                    raise Problem(400, "the multipart body has no `files` field")
                files = [NewFile(u.name, str(u.path), True, u.size, u.sha256) for u in form.files]
                source = "upload"
            elif media == "application/json":
                body = await _json_body(request, JobRoots, json_limit)
                roots = [allowed_root(r, settings.allowed_roots) for r in body.roots]
                files = await asyncio.to_thread(_list_roots, roots, settings.max_files_per_job)
                source = "roots"
            else:
                raise Problem(415, "send files as multipart/form-data (field `files`) or JSON {\"roots\": [...]}")
            await svc.db_call(svc.queue.create, job_id, key.id, source, files, roots)
        except BaseException:
            svc.spool.discard_dir(svc.spool.job_dir(job_id))
            raise
        svc.runner.wake()
        return JSONResponse({"id": job_id, "state": "queued" if files else "done", "total": len(files)},
                            status_code=202, headers={"Location": f"/v1/jobs/{job_id}"})

    @app.get("/v1/jobs", tags=["jobs"], response_model=JobList, responses=_problems(401, 429))
    async def list_jobs(request: Request, key: ApiKey = scan_key,
                        limit: int = Query(100, ge=1, le=MAX_PAGE)) -> dict[str, Any]:
        """The caller's jobs, newest first (an admin key sees every job)."""
        svc = service(request)
        owner = None if key.role == "admin" else key.id
        return {"items": await svc.db_call(svc.queue.jobs, owner, limit)}  # type: ignore[union-attr]

    @app.get("/v1/jobs/{job_id}", tags=["jobs"], response_model=JobView, responses=_problems(401, 404, 429))
    async def get_job(request: Request, job_id: str, key: ApiKey = scan_key) -> dict[str, Any]:
        """State (queued, running, done, failed, cancelled), counts, progress and ETA of a job."""
        svc = service(request)
        await _owned_job(svc, key, job_id)
        view = await svc.db_call(svc.queue.status, job_id)  # type: ignore[union-attr]
        if view is None:
            raise Problem(404, "no such job")
        return view  # type: ignore[no-any-return]

    @app.get(
        "/v1/jobs/{job_id}/results", tags=["jobs"], response_model=ResultsPage,
        responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}, "application/sarif+json": {}},
                         "headers": {"X-Next-Cursor": {"description": "cursor of the next page (non-JSON formats)",
                                                       "schema": {"type": "string"}}}},
                   **_problems(400, 401, 404, 410, 422, 429)},
    )
    async def job_results(
        request: Request, job_id: str, key: ApiKey = scan_key,
        cursor: str | None = Query(None, description="`next` of the previous page"),
        limit: int | None = Query(None, ge=1, le=MAX_PAGE, description="items per page"),
        verdict: Literal["confidential", "public", "unknown"] | None = Query(None),
        category: str | None = Query(None, description="only results with this category"),
        status: Literal["ok", "encrypted", "corrupt", "unsupported", "too_large", "timeout", "error"] | None = Query(None),
        format: Literal["json", "jsonl", "csv", "sarif"] = Query("json"),
    ) -> Response:
        """Results recorded so far, in file order. JSON pages carry `next`; other formats return every
        result from the cursor on unless `limit` is given (then `X-Next-Cursor` names the next page)."""
        svc = service(request)
        queue = svc.queue
        assert queue is not None
        await _owned_job(svc, key, job_id)
        if category is not None and category not in CATEGORIES:
            raise Problem(400, f"unknown category; the categories are {', '.join(CATEGORIES)}")
        if cursor is not None and not CURSOR.match(cursor):
            raise Problem(400, "invalid cursor; pass the `next` value of the previous page")
        view = await svc.db_call(queue.status, job_id)
        if view is None:
            raise Problem(404, "no such job")
        if view["state"] == "cancelled":
            raise Problem(410, "the job was cancelled and its results purged")
        after = int(cursor) if cursor is not None else -1
        filters = {"verdict": verdict, "category": category, "status": status}
        if format == "json" or limit is not None:
            bodies, nxt = await svc.db_call(queue.results, job_id, after=after, limit=limit or settings.results_page_size,
                                            **filters)
            next_cursor = str(nxt) if nxt is not None else None
            if format == "json":
                text = '{"items":[' + ",".join(bodies) + '],"next":' + json.dumps(next_cursor) + "}"
                return Response(text, media_type="application/json")
            headers = {"X-Next-Cursor": next_cursor} if next_cursor else {}
            return Response(_render(format, iter(bodies)), media_type=_MEDIA[format], headers=headers)

        def pages() -> Iterator[str]:
            position = after
            while True:
                bodies, nxt = queue.results(job_id, after=position, limit=500, **filters)
                yield from bodies
                if nxt is None:
                    return
                position = nxt

        return StreamingResponse(_stream(format, pages()), media_type=_MEDIA[format])

    @app.delete("/v1/jobs/{job_id}", tags=["jobs"], response_model=JobView, responses=_problems(401, 404, 429))
    async def delete_job(request: Request, job_id: str, key: ApiKey = scan_key) -> dict[str, Any]:
        """Cancel the job and purge its uploads and results; the job remains as `cancelled`."""
        svc = service(request)
        assert svc.queue is not None
        await _owned_job(svc, key, job_id)
        await svc.db_call(svc.queue.cancel, job_id)
        svc.spool.discard_dir(svc.spool.job_dir(job_id))
        return await svc.db_call(svc.queue.status, job_id)  # type: ignore[no-any-return]

    # --- the secret registry (admin) --------------------------------------------------------
    @app.post(
        "/v1/registry", tags=["registry"], status_code=201, responses=_problems(400, 401, 403, 413, 415, 422, 429, 501),
        openapi_extra=_body({"type": "object", "required": ["files", "label"], "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "label": {"type": "string", "maxLength": 1024}, "category": {"type": "string", "enum": list(CATEGORIES)},
            "owner": {"type": "string", "maxLength": 1024}}}, None),
    )
    async def registry_add(request: Request, key: ApiKey = admin_key) -> JSONResponse:
        """Register documents as secret points (multipart `files`, `label`, optional `category`, `owner`)."""
        svc = service(request)
        if _media_type(request) != "multipart/form-data":
            raise Problem(415, "send the documents as multipart/form-data (field `files`)")
        directory = svc.spool.scan_dir()
        try:
            form = await read_multipart(request, file_field="files", max_files=settings.max_files_per_job,
                                        place=lambda i, name: directory / str(i) / name,
                                        text_fields=("label", "category", "owner"))
            label = form.fields.get("label", "").strip()
            category = form.fields.get("category") or None
            if not form.files or not label:
                raise Problem(400, "send at least one file in `files` and a non-empty `label`")
            if category is not None and category not in CATEGORIES:
                raise Problem(400, f"unknown category; the categories are {', '.join(CATEGORIES)}")
            entries = []
            for upload in form.files:
                entries.append(await asyncio.to_thread(svc.registry.add, upload.path, label=label, category=category,
                                                       owner=form.fields.get("owner") or None))
        finally:
            svc.spool.discard_dir(directory)
        svc.pool.recycle()  # workers load the registry when they start
        return JSONResponse({"items": entries}, status_code=201)

    @app.get("/v1/registry", tags=["registry"], responses=_problems(401, 403, 429, 501))
    async def registry_list(request: Request, key: ApiKey = admin_key) -> dict[str, Any]:
        """The registered secret points (metadata only: the registry never stores their text)."""
        return {"items": await asyncio.to_thread(service(request).registry.list)}

    @app.get("/v1/registry/verify", tags=["registry"], responses=_problems(401, 403, 429, 501))
    async def registry_verify(request: Request, key: ApiKey = admin_key) -> Any:
        """Check the registry's evidence log (each entry chained to the hash of the previous one)."""
        return await asyncio.to_thread(service(request).registry.verify)

    @app.delete("/v1/registry/{entry}", tags=["registry"], status_code=204, responses=_problems(401, 403, 404, 429, 501))
    async def registry_remove(request: Request, entry: str, key: ApiKey = admin_key) -> Response:
        """Remove a registered secret point."""
        svc = service(request)
        if not await asyncio.to_thread(svc.registry.remove, entry):
            raise Problem(404, "no such registry entry")
        svc.pool.recycle()
        return Response(status_code=204)


# --- helpers ------------------------------------------------------------------------------------
_MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8", "sarif": "application/sarif+json",
          "json": "application/json"}


def _list_roots(roots: list[str], limit: int) -> list[NewFile]:
    """Every file under the roots, in sorted path order, without duplicates; 413 past ``limit``."""
    seen: set[str] = set()
    files: list[NewFile] = []
    for root in roots:
        for item in walk(Path(root)):
            if item.path in seen:
                continue
            seen.add(item.path)
            if len(files) >= limit:
                raise Problem(413, f"the roots hold more than {limit} files (MIDIAN_MAX_FILES_PER_JOB)")
            files.append(NewFile(item.display, item.path, False))
    return files


def _render(fmt: str, bodies: Iterator[str]) -> str:
    return "".join(_stream(fmt, bodies))


def _stream(fmt: str, bodies: Iterator[str]) -> Iterator[str]:
    """Result bodies written by the report writer of ``fmt``, in chunks."""
    if fmt == "jsonl":
        for body in bodies:
            yield body + "\n"
        return
    out = io.StringIO()
    writer = writer_for(fmt, out)
    writer.start()
    for body in bodies:
        writer.write(ScanResult.from_json(json.loads(body)))
        if out.tell() > 1 << 16:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    writer.finish()
    yield out.getvalue()

