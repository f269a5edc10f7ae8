"""The HTTP API against the real service: ``midian serve`` under uvicorn on 127.0.0.1, spoken to with httpx.

One server for the whole module (small limits so that the limits can be hit cheaply).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _service import Server, all_results, cli_key, make_key, wait_for_job
from conftest import TEST_DATA

from scanner.policy import load_policy
from scanner.scan import Scanner
from service.registry import available as registry_available
from service.scanning import mask

MiB = 1024 * 1024
DOCX = TEST_DATA / "docx" / "features.docx"
PROBLEM = "application/problem+json"
V1_ROUTES = [("POST", "/v1/scan"), ("POST", "/v1/jobs"), ("GET", "/v1/jobs"), ("GET", "/v1/jobs/" + "0" * 32),
             ("GET", "/v1/jobs/" + "0" * 32 + "/results"), ("DELETE", "/v1/jobs/" + "0" * 32), ("GET", "/v1/registry"),
             ("POST", "/v1/registry"), ("GET", "/v1/registry/verify"), ("DELETE", "/v1/registry/x"), ("GET", "/metrics")]


class Live:
    def __init__(self, server: Server, share: Path, secret: Path) -> None:
        self.server = server
        self.share = share
        self.secret = secret
        self.admin = cli_key(server.data_dir, "admin", "admin")  # through `midian keys create`
        self.scan = make_key(server.data_dir, "gateway", "scan")

    def client(self, key: str | None = None) -> httpx.Client:
        return self.server.client(key)

    def new_key(self, name: str, role: str = "scan") -> str:
        return make_key(self.server.data_dir, name, role)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    base = tmp_path_factory.mktemp("api")
    share, secret = base / "share", base / "secret"
    (share / "dept").mkdir(parents=True)
    secret.mkdir()
    (share / "dept" / "报价.txt").write_text("对华东精密的单价最低放到8,650元，再低就不做了，咱们成本在7,400左右。", encoding="utf-8")
    (share / "notice.txt").write_text("本公司将于下周一举行年度运动会，欢迎全体员工参加。", encoding="utf-8")
    (secret / "outside.txt").write_text("不应被扫描", encoding="utf-8")
    (share / "escape.txt").symlink_to(secret / "outside.txt")
    (base / "data").mkdir()
    settings = {
        "MIDIAN_MAX_UPLOAD_BYTES": str(2 * MiB),
        "MIDIAN_MAX_FILES_PER_JOB": "20",
        "MIDIAN_RATE_LIMIT_PER_MINUTE": "240",
        "MIDIAN_ALLOWED_ROOTS": json.dumps([str(share)]),
    }
    server = Server(base / "data", settings)
    state = Live(server, share, secret)  # keys exist before the server starts: it must read them anyway
    server.start()
    yield state
    assert server.stop() in (0, -15), server.log()


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"]
    assert "Traceback" not in response.text and "File \"" not in response.text
    return body  # type: ignore[no-any-return]


# --- health, schema, authentication ------------------------------------------------------------


def test_health_and_readiness_need_no_key(live: Live) -> None:
    with live.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"model": True, "database": True}


def test_openapi_schema_and_docs(live: Live) -> None:
    with live.client() as c:
        schema = c.get("/openapi.json").json()
        assert c.get("/docs").status_code == 200
    paths = schema["paths"]
    for method, path in [("post", "/v1/scan"), ("post", "/v1/jobs"), ("get", "/v1/jobs/{job_id}"),
                         ("get", "/v1/jobs/{job_id}/results"), ("delete", "/v1/jobs/{job_id}"), ("get", "/v1/registry")]:
        assert method in paths[path], path
    scan_body = paths["/v1/scan"]["post"]["requestBody"]["content"]
    assert scan_body["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert "application/json" in scan_body
    assert "files" in paths["/v1/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())


@pytest.mark.parametrize(("method", "path"), V1_ROUTES)
def test_every_route_needs_a_valid_key(live: Live, method: str, path: str) -> None:
    with live.client() as c:
        missing = c.request(method, path)
    with live.client("midian_000000000000_" + "A" * 43) as c:
        wrong = c.request(method, path)
    for response in (missing, wrong):
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert missing.json() == wrong.json()  # nothing tells a missing key from a wrong one


def test_scan_role_cannot_manage_the_registry(live: Live) -> None:
    with live.client(live.scan) as c:
        for method, path in [("GET", "/v1/registry"), ("GET", "/v1/registry/verify"), ("DELETE", "/v1/registry/x")]:
            assert_problem(c.request(method, path), 403)
        assert_problem(c.post("/v1/registry", files={"files": ("a.txt", b"x")}, data={"label": "l"}), 403)


# --- synchronous scans ---------------------------------------------------------------------------


def test_scan_upload_returns_the_same_result_object_as_the_cli(live: Live) -> None:
    with live.client(live.scan) as c:
        response = c.post("/v1/scan", files={"file": ("features.docx", DOCX.read_bytes(), "application/pdf")})
    assert response.status_code == 200, response.text
    got = response.json()
    expected = mask(Scanner().scan(str(DOCX)), load_policy()).to_json()
    for key in ("path", "elapsed_ms"):
        got.pop(key), expected.pop(key)
    assert got == expected  # the declared content type (a lie here) is ignored: the bytes decide
    assert got["schema"] == "midian.scan/1" and got["verdict"] == "confidential" and got["format"] == "docx"
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["cache-control"] == "no-store"


def test_scan_json_text(live: Live) -> None:
    with live.client(live.scan) as c:
        response = c.post("/v1/scan", json={"name": "邮件正文", "text": "烧结工艺参数：烧结温度1350℃，保温4小时，升温速率5℃/min。机密"})
    body = response.json()
    assert response.status_code == 200 and body["path"] == "邮件正文" and body["status"] == "ok"
    assert body["sha256"] == hashlib.sha256("烧结工艺参数：烧结温度1350℃，保温4小时，升温速率5℃/min。机密".encode()).hexdigest()


@pytest.mark.parametrize(("name", "data", "status"), [
    ("random.docx", os.urandom(4096), {"corrupt", "unsupported"}),
    ("truncated.docx", DOCX.read_bytes()[:2000], {"corrupt"}),
    ("empty.bin", b"", {"ok", "unsupported", "corrupt"}),
])
def test_unscannable_input_still_gets_a_result_with_http_200(live: Live, name: str, data: bytes, status: set[str]) -> None:
    with live.client(live.scan) as c:
        response = c.post("/v1/scan", files={"file": (name, data)})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in status and body["path"] == name
    if body["status"] != "ok":
        assert body["verdict"] == "unknown" and body["error"]["type"] and body["error"]["message"]


def test_scan_refuses_malformed_requests(live: Live) -> None:
    with live.client(live.scan) as c:
        assert_problem(c.post("/v1/scan", content=b"plain", headers={"content-type": "text/plain"}), 415)
        assert_problem(c.post("/v1/scan", content=b"--x\r\nbad", headers={"content-type": "multipart/form-data"}), 400)
        assert_problem(c.post("/v1/scan", files={"other": ("a.txt", b"x")}), 400)
        assert_problem(c.post("/v1/scan", files=[("file", ("a.txt", b"x")), ("file", ("b.txt", b"y"))]), 413)
        invalid = assert_problem(c.post("/v1/scan", json={"text": "绝密配方 ZrO2 94.5%", "extra": 1}), 422)
        assert "绝密配方" not in json.dumps(invalid, ensure_ascii=False)  # the submitted text is never echoed
        assert_problem(c.post("/v1/scan", content=b"{not json", headers={"content-type": "application/json"}), 422)
    assert not any((live.server.data_dir / "spool" / "scan").iterdir())


def test_request_size_limit(live: Live) -> None:
    big = b"x" * (4 * MiB)
    with live.client(live.scan) as c:
        assert_problem(c.post("/v1/scan", files={"file": ("big.txt", big)}), 413)

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted while reading
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n"
            for _ in range(8):
                yield b"y" * (MiB // 2)

        assert_problem(c.post("/v1/scan", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}), 413)
        held = assert_problem(c.post("/v1/scan", json={"text": "a" * (5 * MiB // 2)}), 413)
        assert "JSON bodies" in held["detail"]  # JSON is held in memory: its own, tighter limit
    assert not any((live.server.data_dir / "spool" / "scan").iterdir())


def test_fifty_concurrent_scans(live: Live) -> None:
    key = live.new_key("concurrent")
    texts = {f"c{i:02d}.txt": f"第{i}份报价：单价最低放到{8000 + i}元，成本在7,400左右。".encode() for i in range(50)}

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120,
                                     limits=httpx.Limits(max_connections=50)) as client:
            return await asyncio.gather(*(client.post("/v1/scan", files={"file": (n, d)}) for n, d in texts.items()))

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 50
    for (name, data), response in zip(texts.items(), responses, strict=True):
        body = response.json()
        assert body["path"] == name and body["sha256"] == hashlib.sha256(data).hexdigest() and body["status"] == "ok"


# --- jobs ---------------------------------------------------------------------------------------------


def test_upload_job_lifecycle_pages_filters_and_formats(live: Live) -> None:
    uploads = [
        ("files", ("features.docx", DOCX.read_bytes())),
        ("files", ("报价.txt", "对华东精密的单价最低放到8,650元，再低就不做了，咱们成本在7,400左右。".encode())),
        ("files", ("notice.txt", "本公司将于下周一举行年度运动会，欢迎全体员工参加。".encode())),
        ("files", ("broken.docx", DOCX.read_bytes()[:1500])),
        ("files", ("hr.txt", "员工张三，身份证号110101199003074514，月薪35000元，年终奖6个月。机密".encode())),
    ]
    with live.client(live.scan) as c:
        created = c.post("/v1/jobs", files=uploads)
        assert created.status_code == 202, created.text
        job = created.json()["id"]
        assert created.headers["location"] == f"/v1/jobs/{job}"
        view = wait_for_job(c, job)
        assert (view["state"], view["total"], view["done"], view["progress"]) == ("done", 5, 5, 1.0)
        assert view["not_ok"] == 1 and sum(view["verdicts"].values()) == 5
        items = all_results(c, job, limit=2)
        assert [i["path"] for i in items] == [u[1][0] for u in uploads]  # file order, each exactly once
        by_name = {i["path"]: i for i in items}
        assert by_name["broken.docx"]["status"] == "corrupt" and by_name["broken.docx"]["verdict"] == "unknown"
        assert "110101199003074514" not in json.dumps(by_name["hr.txt"], ensure_ascii=False)  # masked by the policy

        confidential = all_results(c, job, verdict="confidential")
        assert {i["path"] for i in confidential} == {p for p, i in by_name.items() if i["verdict"] == "confidential"}
        pricing = all_results(c, job, category="business.pricing")
        assert pricing and all("business.pricing" in i["categories"] for i in pricing)
        assert all_results(c, job, status="corrupt")[0]["path"] == "broken.docx"
        assert_problem(c.get(f"/v1/jobs/{job}/results", params={"category": "nope"}), 400)
        assert_problem(c.get(f"/v1/jobs/{job}/results", params={"cursor": "abc"}), 400)
        assert_problem(c.get(f"/v1/jobs/{job}/results", params={"verdict": "maybe"}), 422)

        jsonl = c.get(f"/v1/jobs/{job}/results", params={"format": "jsonl"})
        assert jsonl.headers["content-type"].startswith("application/x-ndjson")
        assert [json.loads(line) for line in jsonl.text.splitlines()] == items
        page = c.get(f"/v1/jobs/{job}/results", params={"format": "jsonl", "limit": 2})
        assert len(page.text.splitlines()) == 2 and page.headers["x-next-cursor"]
        rows = list(csv.DictReader(io.StringIO(c.get(f"/v1/jobs/{job}/results", params={"format": "csv"}).text)))
        assert {r["path"] for r in rows} == set(by_name)
        sarif = c.get(f"/v1/jobs/{job}/results", params={"format": "sarif"}).json()
        assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]

        listed = c.get("/v1/jobs").json()["items"]
        assert job in [j["id"] for j in listed]
    assert not (live.server.data_dir / "spool" / "jobs" / job).exists()  # uploads deleted once scanned


def test_jobs_are_private_to_their_key(live: Live) -> None:
    owner, stranger = live.new_key("owner"), live.new_key("stranger")
    with live.client(owner) as c:
        job = c.post("/v1/jobs", files=[("files", ("a.txt", "甲".encode()))]).json()["id"]
        wait_for_job(c, job)
    with live.client(stranger) as c:
        for method, path in [("GET", f"/v1/jobs/{job}"), ("GET", f"/v1/jobs/{job}/results"), ("DELETE", f"/v1/jobs/{job}")]:
            assert_problem(c.request(method, path), 404)  # another key's job does not exist for this one
        assert job not in [j["id"] for j in c.get("/v1/jobs").json()["items"]]
    with live.client(live.admin) as c:
        assert c.get(f"/v1/jobs/{job}").json()["state"] == "done"
        assert job in [j["id"] for j in c.get("/v1/jobs").json()["items"]]


def test_delete_cancels_and_purges(live: Live) -> None:
    with live.client(live.scan) as c:
        job = c.post("/v1/jobs", files=[("files", (f"d{i}.txt", f"第{i}份".encode())) for i in range(12)]).json()["id"]
        deleted = c.delete(f"/v1/jobs/{job}")
        assert deleted.status_code == 200 and deleted.json()["state"] == "cancelled"
        assert c.get(f"/v1/jobs/{job}").json()["state"] == "cancelled"
        assert_problem(c.get(f"/v1/jobs/{job}/results"), 410)
        assert_problem(c.get("/v1/jobs/not-a-job-id"), 404)
    assert not (live.server.data_dir / "spool" / "jobs" / job).exists()


def test_job_file_count_limit(live: Live) -> None:
    with live.client(live.scan) as c:
        assert_problem(c.post("/v1/jobs", files=[("files", (f"{i}.txt", b"x")) for i in range(21)]), 413)
        assert_problem(c.post("/v1/jobs", files=[("file", ("a.txt", b"x"))]), 400)
        assert_problem(c.post("/v1/jobs", content=b"x", headers={"content-type": "application/octet-stream"}), 415)
    assert not any((live.server.data_dir / "spool" / "jobs").iterdir())  # refused uploads are not kept


def test_roots_job_scans_only_inside_the_allowed_roots(live: Live) -> None:
    with live.client(live.scan) as c:
        created = c.post("/v1/jobs", json={"roots": [str(live.share)]})
        assert created.status_code == 202, created.text
        job = created.json()["id"]
        assert wait_for_job(c, job)["total"] == 2
        paths = [i["path"] for i in all_results(c, job)]
        assert paths == [str(live.share / "dept" / "报价.txt"), str(live.share / "notice.txt")]  # the link out is skipped
        for root, status in [(str(live.secret), 403), (f"{live.share}/../secret", 403), (f"{live.share}/escape.txt", 403),
                             ("share/dept", 400), (f"{live.share}/missing", 400)]:
            assert_problem(c.post("/v1/jobs", json={"roots": [root]}), status)
        assert_problem(c.post("/v1/jobs", json={"roots": []}), 422)


# --- limits, metrics, errors ---------------------------------------------------------------------------


def test_rate_limit_per_key(live: Live) -> None:
    limited, other = live.new_key("limited"), live.new_key("unlimited")
    with live.client(limited) as c:
        statuses = [c.get("/v1/jobs", params={"limit": 1}).status_code for _ in range(260)]
        refused = c.get("/v1/jobs")
    assert 429 in statuses and statuses[0] == 200
    body = assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1 and "rate limit" in body["detail"]
    with live.client(other) as c:
        assert c.get("/v1/jobs").status_code == 200  # limits are per key


def test_metrics(live: Live) -> None:
    with live.client(live.scan) as c:
        c.post("/v1/scan", json={"text": "测试"})
        text = c.get("/metrics").text
    for name in ("midian_http_requests_total", "midian_http_request_duration_seconds_bucket", "midian_http_errors_total",
                 "midian_files_scanned_total", "midian_queue_depth"):
        assert name in text, name
    assert 'route="/v1/scan"' in text
    assert "not-a-job-id" not in text  # raw paths never become labels


def test_unknown_paths_and_methods_are_problems(live: Live) -> None:
    with live.client(live.scan) as c:
        assert_problem(c.get("/nowhere"), 404)
        assert_problem(c.put("/v1/scan"), 405)


# --- the registry (admin) --------------------------------------------------------------------------


@pytest.mark.skipif(not registry_available(), reason="scanner.registry is not on this branch yet (the registry issue)")
def test_registry_register_list_verify_remove(live: Live) -> None:
    with live.client(live.admin) as c:
        added = c.post("/v1/registry", files=[("files", ("sop.txt", "烧结工艺SOP：烧结温度1350℃，保温4小时，升温速率5℃/min，"
                                                                     "氧化锆粉体配比为ZrO2 94.5%、Y2O3 5.5%。".encode() * 4))],
                       data={"label": "烧结SOP", "category": "technical.process"})
        assert added.status_code == 201, added.text
        listed = c.get("/v1/registry").json()["items"]
        assert listed and "烧结温度1350" not in json.dumps(listed, ensure_ascii=False)
        assert c.get("/v1/registry/verify").status_code == 200
        entry = listed[0].get("id") if isinstance(listed[0], dict) else listed[0]
        assert c.delete(f"/v1/registry/{entry}").status_code == 204


# --- property-based: no input makes the service fail ------------------------------------------------


def test_schemathesis_finds_no_server_errors(live: Live) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_url(f"{live.server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {live.new_key('fuzz', 'admin')}"}
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/v1/registry") and not registry_available():
            continue  # answers 501 by design until the registry lands

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):  # type: ignore[no-untyped-def]
            case.call_and_validate(base_url=live.server.url, headers=headers, checks=[not_a_server_error])

        check()
        tested += 1
    assert tested >= 9


@pytest.mark.skipif(not registry_available(), reason="scanner.registry is not on this branch yet (the registry issue)")
def test_registry_refuses_a_file_that_does_not_extract(live: Live) -> None:
    with live.client(live.admin) as c:
        refused = c.post("/v1/registry", files=[("files", ("broken.pdf", b"%PDF-1.7\n garbage"))],
                         data={"label": "broken"})
        assert_problem(refused, 422)
        assert "broken.pdf" in refused.json()["detail"]
        assert c.delete("/v1/registry/not-a-number").status_code == 404
