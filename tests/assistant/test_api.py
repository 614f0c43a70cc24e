"""The HTTP API against the real assistant: real index, real retrieval, FastAPI's TestClient (httpx)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api import BindRefused, UploadRejected, check_bind, create_api, safe_upload_name
from assistant.settings import Settings

QUESTION = "Nghệ An đào tạo bao nhiêu thạc sỹ?"

HA_GIANG = (
    "Báo cáo kết quả đào tạo, bồi dưỡng cán bộ tỉnh Hà Giang năm 2021\n\n"
    "Năm 2021, Tỉnh ủy Hà Giang đã lãnh đạo, chỉ đạo công tác đào tạo, bồi dưỡng cán bộ đạt nhiều kết quả. "
    "Toàn tỉnh đã cử 57 cán bộ học thạc sỹ, 12 cán bộ học tiến sỹ; mở 9 lớp trung cấp lý luận chính trị "
    "cho 640 học viên.\n\n"
    "Thời gian tới, tỉnh tiếp tục đổi mới nội dung, chương trình bồi dưỡng, gắn đào tạo với quy hoạch cán bộ.\n"
)


@pytest.fixture(scope="module")
def client(assistant: Any, corpus_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_api(assistant, corpus_settings)) as c:
        yield c


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Settings]:
    """An assistant over its own empty index and corpus folder, for tests that upload."""
    from assistant.service import Assistant

    root = tmp_path_factory.mktemp("api-uploads")
    (root / "corpus").mkdir()
    settings = Settings(
        corpus_dir=root / "corpus",
        index_dir=root / "index",
        feedback_log=root / "feedback.jsonl",
        llm="none",
        max_upload_mb=0.05,  # 51 KB per file, so the size limit is testable
    )
    return Assistant.from_settings(settings), settings


# -- /ask ---------------------------------------------------------------------------------------
def test_ask_returns_the_cli_json_contract(client: TestClient, assistant: Any) -> None:
    r = client.post("/ask", json={"question": QUESTION, "mode": "qa", "history": []})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = assistant.ask(QUESTION).to_json()
    assert body.keys() == expected.keys()
    for key in ("answer", "refused", "mode", "citations", "path", "resolved_question"):
        assert body[key] == expected[key]
    assert "935" in body["answer"]
    cit = body["citations"][0]
    assert "935" in cit["quote"]
    assert cit["province"] == "Nghệ An"
    assert {"n", "doc_id", "source", "title", "section", "start", "end"} <= cit.keys()


def test_ask_defaults_and_history(client: TestClient) -> None:
    r = client.post("/ask", json={"question": "Còn Lạng Sơn?", "history": [QUESTION]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "qa"
    assert body["resolved_question"] == "Lạng Sơn đào tạo bao nhiêu thạc sỹ?"
    assert "15" in body["answer"] and body["citations"][0]["province"] == "Lạng Sơn"


def test_ask_filters_by_province(client: TestClient) -> None:
    r = client.post("/ask", json={"question": QUESTION, "provinces": ["Lạng Sơn"]})
    assert r.status_code == 200
    body = r.json()
    assert "935" not in body["answer"]
    assert all(c["province"] == "Lạng Sơn" for c in body["citations"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": ""}, "câu hỏi trống / empty question"),
        ({"question": "   \n "}, "câu hỏi trống / empty question"),
        ({}, "thiếu câu hỏi"),
        ({"question": 5}, "phải là chuỗi"),
        ({"question": "x" * 2001}, "question too long (max 2000 characters)"),
        ({"question": QUESTION, "mode": "essay"}, "invalid mode: use qa, draft or learn"),
        ({"question": QUESTION, "history": "không phải danh sách"}, "'history' must be a list"),
        ([QUESTION], "request body must be a JSON object"),
    ],
)
def test_ask_rejects_bad_input_with_clear_422(client: TestClient, body: Any, message: str) -> None:
    r = client.post("/ask", json=body)
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_ask_accepts_a_question_of_exactly_2000_chars(client: TestClient) -> None:
    question = ((QUESTION + " ") * 60)[:2000]
    assert len(question) == 2000
    r = client.post("/ask", json={"question": question})
    assert r.status_code == 200, r.text


def test_ask_rejects_invalid_json(client: TestClient) -> None:
    r = client.post("/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "invalid JSON" in r.json()["detail"]


def test_ask_body_size_limit_is_413(client: TestClient, corpus_settings: Settings) -> None:
    big = {"question": QUESTION, "history": ["x" * 1000] * 80}
    r = client.post("/ask", json=big)
    assert r.status_code == 413
    assert "quá lớn" in r.json()["detail"] and "too large" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        yield b'{"question": "'
        for _ in range(corpus_settings.max_request_bytes // 1000 + 5):
            yield b"a" * 1000
        yield b'"}'

    r = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 413
    assert "too large" in r.json()["detail"]


def test_concurrent_asks_all_answer(client: TestClient) -> None:
    questions = [QUESTION, "Còn Lạng Sơn?", QUESTION, "Lào Cai đào tạo cán bộ cấp xã thế nào?"] * 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda q: client.post("/ask", json={"question": q}), questions))
    assert [r.status_code for r in results] == [200] * len(questions)
    assert "935" in results[0].json()["answer"] and "935" in results[2].json()["answer"]


# -- /documents, /health, OpenAPI ---------------------------------------------------------------
def test_documents_lists_the_index(client: TestClient, assistant: Any) -> None:
    r = client.get("/documents")
    assert r.status_code == 200
    body = r.json()
    docs = body["documents"]
    assert body["total"] == len(docs) == len(assistant.documents()) == 5
    nghe_an = next(d for d in docs if d["province"] == "Nghệ An")
    assert nghe_an["period"] == "2012-2020"
    assert nghe_an["chunks"] > 0 and nghe_an["title"]
    assert body["chunks"] == sum(d["chunks"] for d in docs)


def test_health(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["documents"] == 5
    queue = r.json()["llm_queue"]  # what an operator watches for requests piling up
    assert queue["limit"] >= 1 and queue["in_use"] == 0 and queue["waiting"] == 0


def test_openapi_schema_documents_the_endpoints(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/ask", "/documents", "/ingest", "/health"} <= schema["paths"].keys()
    ask = schema["paths"]["/ask"]["post"]
    assert {"200", "413", "422"} <= ask["responses"].keys()
    body_ref = ask["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    props = schema["components"]["schemas"][body_ref]["properties"]
    assert {"question", "mode", "history", "provinces", "doc_ids"} <= props.keys()
    assert props["question"]["maxLength"] == 2000
    assert "multipart/form-data" in schema["paths"]["/ingest"]["post"]["requestBody"]["content"]


# -- /ingest --------------------------------------------------------------------------------------
def test_ingest_uploads_and_answers_from_them(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    with TestClient(create_api(assistant, settings)) as c:
        r = c.post(
            "/ingest",
            files=[
                ("files", ("C:\\Users\\cb\\Báo cáo Hà Giang 2021.txt", HA_GIANG.encode(), "text/plain")),
                ("files", ("hỏng.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")),
                ("files", ("virus.exe", b"MZ\x90\x00", "application/octet-stream")),
            ],
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["files"] == ["Báo cáo Hà Giang 2021.txt"]
        assert body["added"] == 1 and body["chunks_total"] >= 1
        assert len(body["errors"]) == 2
        assert any(e.startswith("hỏng.pdf: ") and "PDF" in e for e in body["errors"])
        assert any(e.startswith("virus.exe: ") and "unsupported file type" in e for e in body["errors"])
        assert str(settings.corpus_dir) not in " ".join(body["errors"])  # no server paths leak
        uploads = Path(settings.corpus_dir) / "uploads"
        assert sorted(p.name for p in uploads.iterdir()) == ["Báo cáo Hà Giang 2021.txt"]

        docs = c.get("/documents").json()["documents"]
        assert [d["province"] for d in docs] == ["Hà Giang"]
        assert docs[0]["source"] == "uploads/Báo cáo Hà Giang 2021.txt"

        ans = c.post("/ask", json={"question": "Hà Giang cử bao nhiêu cán bộ học tiến sỹ?"}).json()
        assert "12" in ans["answer"], ans
        assert ans["citations"][0]["source"] == "uploads/Báo cáo Hà Giang 2021.txt"

        again = c.post("/ingest", files=[("files", ("Báo cáo Hà Giang 2021.txt", HA_GIANG.encode()))])
        assert again.status_code == 200 and again.json()["unchanged"] == 1


def test_ingest_rejects_bad_uploads(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    with TestClient(create_api(assistant, settings)) as c:
        r = c.post("/ingest", files=[("files", ("../../etc/passwd.txt", b"root:x:0:0"))])
        assert r.status_code == 422
        assert "'..'" in r.json()["detail"]
        assert not (Path(settings.corpus_dir).parent / "etc").exists()

        r = c.post("/ingest", files=[("files", ("rỗng.md", b""))])
        assert r.status_code == 422 and "empty file" in r.json()["detail"]

        r = c.post("/ingest")
        assert r.status_code == 422 and "no file sent" in r.json()["detail"]

        limit = int(settings.max_upload_mb * 1024 * 1024)
        r = c.post("/ingest", files=[("files", ("lớn.txt", io.BytesIO(b"a" * (limit + 10)), "text/plain"))])
        assert r.status_code == 422, r.text  # over the per-file limit: refused by name, nothing kept
        assert r.json()["errors"] == ["lớn.txt: tệp lớn hơn 0.05 MB (file larger than 0.05 MB)"]
        r = c.post("/ingest", files=[("files", ("lớn.txt", io.BytesIO(b"a" * (limit * 4)), "text/plain"))])
        assert r.status_code == 413  # the whole request is over the limit: refused before reading
        assert "too large" in r.json()["detail"]
        assert not (Path(settings.corpus_dir) / "uploads" / "lớn.txt").exists()


# -- names, binding, login -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Báo cáo tổng kết 2021.docx", "Báo cáo tổng kết 2021.docx"),
        ("/tmp/x/Kế hoạch số 12-KH.PDF", "Kế hoạch số 12-KH.pdf"),
        ("C:\\Users\\a\\Đề án (bản cuối).md", "Đề án (bản cuối).md"),
        ("  .ẩn danh<>|*?.txt", "ẩn danh_____.txt"),
        ("tài liệu\x00\n.txt", "tài liệu__.txt"),
    ],
)
def test_safe_upload_name_keeps_vietnamese(name: str, safe: str) -> None:
    assert safe_upload_name(name) == safe


@pytest.mark.parametrize(
    "name", ["../a.txt", "a/../../b.md", "..", "x.exe", "x.html", ".txt", "", "a.meta.yaml"]
)
def test_safe_upload_name_rejects(name: str) -> None:
    with pytest.raises(UploadRejected):
        safe_upload_name(name)


def test_binding_beyond_loopback_needs_a_login() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(Settings(host=host))
    for host in ("0.0.0.0", "::", "192.168.1.10"):
        with pytest.raises(BindRefused, match="DTBD_AUTH_USER"):
            check_bind(Settings(host=host))
        check_bind(Settings(host=host, auth_user="canbo", auth_password="mật-khẩu"))


def test_api_requires_login_when_configured(assistant: Any, corpus_settings: Settings) -> None:
    settings = corpus_settings.model_copy(update={"auth_user": "canbo", "auth_password": "mật khẩu"})
    with TestClient(create_api(assistant, settings)) as c:
        r = c.post("/ask", json={"question": QUESTION})
        assert r.status_code == 401 and "authentication required" in r.json()["detail"]
        assert c.get("/documents", auth=("canbo", "sai")).status_code == 401
        assert c.get("/health").status_code == 200
        r = c.post("/ask", json={"question": QUESTION}, auth=("canbo", "mật khẩu"))
        assert r.status_code == 200 and "935" in r.json()["answer"]


# -- issue 11: upload storage, origins, messages ----------------------------------------------------
def _doc(name: str, figure: int) -> bytes:
    return (
        f"Báo cáo bồi dưỡng cán bộ xã Tân Lập năm 2023 ({name})\n\n"
        f"Năm 2023, xã Tân Lập đã cử {figure} cán bộ đi học trung cấp lý luận chính trị.\n"
    ).encode()


def test_a_name_over_255_bytes_is_shortened_and_the_batch_indexed(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    long_name = "Báo cáo tổng kết công tác đào tạo bồi dưỡng " * 8 + ".txt"  # ~300 letters, >255 bytes
    assert len(long_name.encode()) > 255
    with TestClient(create_api(assistant, settings)) as c:
        r = c.post(
            "/ingest",
            files=[
                ("files", (long_name, _doc("dài", 31), "text/plain")),
                ("files", ("ngắn.txt", _doc("ngắn", 32))),
            ],
        )
        assert r.status_code == 200, r.text
        stored = r.json()["files"]
        assert len(stored) == 2 and "ngắn.txt" in stored
        assert all(len(n.encode()) <= 255 for n in stored)
        sources = {d["source"] for d in c.get("/documents").json()["documents"]}
        assert {f"uploads/{n}" for n in stored} <= sources


def test_same_name_upload_is_kept_beside_unless_replace(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    with TestClient(create_api(assistant, settings)) as c:
        first = c.post("/ingest", files=[("files", ("trùng tên.txt", _doc("một", 41)))])
        second = c.post("/ingest", files=[("files", ("trùng tên.txt", _doc("hai", 42)))])
        assert first.status_code == second.status_code == 200, second.text
        assert first.json()["files"] == ["trùng tên.txt"]
        assert second.json()["files"] == ["trùng tên (2).txt"]
        assert second.json()["renamed"] == {"trùng tên.txt": "trùng tên (2).txt"}
        uploads = Path(settings.corpus_dir) / "uploads"
        assert (uploads / "trùng tên.txt").read_bytes() == _doc("một", 41)  # the old one untouched
        replaced = c.post("/ingest?replace=true", files=[("files", ("trùng tên.txt", _doc("ba", 43)))])
        assert replaced.status_code == 200 and replaced.json()["files"] == ["trùng tên.txt"]
        assert (uploads / "trùng tên.txt").read_bytes() == _doc("ba", 43)
        assert replaced.json()["updated"] == 1
        records = {u["name"]: u for u in c.get("/uploads").json()["uploads"]}
        assert records["trùng tên.txt"]["replaced"]  # who uploaded the version it replaced


def test_concurrent_same_name_uploads_all_succeed(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    with TestClient(create_api(assistant, settings)) as c:

        def send(i: int) -> Any:
            return c.post("/ingest", files=[("files", ("đồng thời.txt", _doc(f"bản {i}", 100 + i)))])

        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(send, range(10)))
    assert [r.status_code for r in results] == [200] * 10, [r.text for r in results if r.status_code != 200]
    names = [r.json()["files"][0] for r in results]
    assert len(set(names)) == 10, names
    uploads = Path(settings.corpus_dir) / "uploads"
    assert not [p.name for p in uploads.iterdir() if p.name.startswith(".")]  # no temp file left


def test_uploads_record_who_and_when(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    with TestClient(create_api(assistant, settings)) as c:
        assert c.post("/ingest", files=[("files", ("khách gửi.txt", _doc("khách", 51)))]).status_code == 200
        rec = next(u for u in c.get("/uploads").json()["uploads"] if u["name"] == "khách gửi.txt")
    assert rec["sender"] == "khách@testclient" and rec["uploaded_at"].startswith("20")
    assert rec["original_name"] == "khách gửi.txt" and rec["size"] == len(_doc("khách", 51))
    logged = settings.model_copy(update={"auth_user": "canbo", "auth_password": "mật khẩu"})
    with TestClient(create_api(assistant, logged)) as c:
        r = c.post(
            "/ingest", files=[("files", ("cán bộ gửi.txt", _doc("cán bộ", 52)))], auth=("canbo", "mật khẩu")
        )
        assert r.status_code == 200, r.text
        assert c.get("/uploads").status_code == 401
        rec = next(
            u
            for u in c.get("/uploads", auth=("canbo", "mật khẩu")).json()["uploads"]
            if u["name"] == "cán bộ gửi.txt"
        )
    assert rec["sender"] == "canbo"


def test_delete_an_upload_removes_it_from_the_index(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    question = "Năm 2023 xã Phú Mỹ cử bao nhiêu cán bộ đi học cao cấp lý luận chính trị?"
    doc = "Báo cáo xã Phú Mỹ\n\nNăm 2023, xã Phú Mỹ đã cử 61 cán bộ đi học cao cấp lý luận chính trị.\n".encode()
    with TestClient(create_api(assistant, settings)) as c:
        assert c.post("/ingest", files=[("files", ("Phú Mỹ.txt", doc))]).status_code == 200
        assert "61" in c.post("/ask", json={"question": question}).json()["answer"]
        r = c.delete("/uploads/Phú Mỹ.txt")
        assert r.status_code == 200 and r.json()["deleted"] == "Phú Mỹ.txt"
        sources = {d["source"] for d in c.get("/documents").json()["documents"]}
        assert "uploads/Phú Mỹ.txt" not in sources
        assert "61" not in c.post("/ask", json={"question": question}).json()["answer"]
        assert not (Path(settings.corpus_dir) / "uploads" / "Phú Mỹ.txt").exists()
        again = c.delete("/uploads/Phú Mỹ.txt")
        assert again.status_code == 404 and "no such upload" in again.json()["detail"]
        assert c.delete("/uploads/..").status_code in (404, 422)
        assert c.delete("/uploads/.uploads.json").status_code == 422


def test_writes_from_a_foreign_origin_are_refused(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    files = [("files", ("nguồn lạ.txt", _doc("lạ", 71)))]
    with TestClient(create_api(assistant, settings)) as c:
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "http://localhost:3000"},
            {"Origin": "null"},
            {"Referer": "http://evil.example/page.html"},
        ):
            r = c.post("/ingest", files=files, headers=headers)
            assert r.status_code == 403, (headers, r.text)
            assert "nguồn khác" in r.json()["detail"] and "cross-origin" in r.json()["detail"]
            assert c.delete("/uploads/khách gửi.txt", headers=headers).status_code == 403
        assert not (Path(settings.corpus_dir) / "uploads" / "nguồn lạ.txt").exists()
        # a preflight from a foreign origin gets no approval; reads carry no CORS approval for it
        pre = c.options(
            "/ingest", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert pre.status_code == 403 and "access-control-allow-origin" not in pre.headers
        read = c.get("/documents", headers={"Origin": "http://localhost:9999"})
        assert read.status_code == 200 and "access-control-allow-origin" not in read.headers
        # the app's own page (same origin) may write
        r = c.post("/ingest", files=files, headers={"Origin": "http://testserver"})
        assert r.status_code == 200, r.text
    allowed = settings.model_copy(update={"allowed_origins": ["https://cong.example.vn"]})
    with TestClient(create_api(assistant, allowed)) as c:
        r = c.post("/ingest", files=files, headers={"Origin": "https://cong.example.vn"})
        assert r.status_code == 200, r.text


def test_foreign_origin_is_refused_even_with_the_login(assistant: Any, corpus_settings: Settings) -> None:
    settings = corpus_settings.model_copy(update={"auth_user": "canbo", "auth_password": "mật khẩu"})
    with TestClient(create_api(assistant, settings)) as c:
        r = c.post(
            "/ask",
            json={"question": QUESTION},
            auth=("canbo", "mật khẩu"),
            headers={"Origin": "http://evil.example"},
        )
        assert r.status_code == 403


@pytest.mark.parametrize(
    ("content_type", "body", "words"),
    [
        ("multipart/form-data", b"--x\r\n", "boundary"),
        (
            "multipart/form-data; boundary=zz",
            b'--zz\r\nContent-Disposition: form-data; name="files"\r\n\r\ntext\r\n--zz--\r\n',
            "tệp tải lên",
        ),
    ],
)
def test_upload_errors_are_vietnamese(client: TestClient, content_type: str, body: bytes, words: str) -> None:
    r = client.post("/ingest", content=body, headers={"Content-Type": content_type})
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"], r.json()


def test_lone_surrogate_question_is_named_as_such(client: TestClient) -> None:
    r = client.post(
        "/ask", content=b'{"question": "\\ud800 Ngh\\u1ec7 An"}', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert "Unicode" in r.json()["detail"] and "must be a string" not in r.json()["detail"]


def test_health_shows_fallback_counters_and_the_ingest_queue(client: TestClient) -> None:
    from assistant import health

    before = client.get("/health").json()
    assert before["fallbacks"][health.DENSE_FAILED] >= 0
    assert before["ingest_queue"]["waiting"] == 0
    health.count(health.DENSE_FAILED)
    after = client.get("/health").json()
    assert after["fallbacks"][health.DENSE_FAILED] == before["fallbacks"][health.DENSE_FAILED] + 1


def test_an_upload_s_metadata_can_be_corrected(fresh: tuple[Any, Settings]) -> None:
    assistant, settings = fresh
    doc = "Báo cáo công tác cán bộ năm 2023\n\nNăm 2023, toàn huyện đã mở 6 lớp bồi dưỡng kỹ năng số.\n".encode()
    with TestClient(create_api(assistant, settings)) as c:
        assert c.post("/ingest", files=[("files", ("không tỉnh.txt", doc))]).status_code == 200
        r = c.patch(
            "/uploads/không tỉnh.txt", json={"province": "Điện Biên", "title": "Báo cáo huyện Mường Nhé 2023"}
        )
        assert r.status_code == 200 and r.json()["updated"] == 1, r.text
        d = next(
            d for d in c.get("/documents").json()["documents"] if d["source"] == "uploads/không tỉnh.txt"
        )
        assert d["province"] == "Điện Biên" and d["title"] == "Báo cáo huyện Mường Nhé 2023"
        rec = next(u for u in c.get("/uploads").json()["uploads"] if u["name"] == "không tỉnh.txt")
        assert rec["edited_by"] == "khách@testclient" and rec["edited_at"]
        bad = c.patch("/uploads/không tỉnh.txt", json={"doc_id": "x"})
        assert bad.status_code == 422 and "không được phép" in bad.json()["detail"]
        assert c.patch("/uploads/không có.txt", json={"title": "x"}).status_code == 404
        foreign = c.patch(
            "/uploads/không tỉnh.txt", json={"title": "lạ"}, headers={"Origin": "http://evil.example"}
        )
        assert foreign.status_code == 403
        # deleting it takes the corrected sidecar along
        assert c.delete("/uploads/không tỉnh.txt").status_code == 200
        assert not list((Path(settings.corpus_dir) / "uploads").glob("không tỉnh*"))
