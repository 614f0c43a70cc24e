"""Upload storage (``ingest.uploads``) on real files: names, and recovery after a killed process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.uploads import (
    LEDGER_NAME,
    MAX_NAME_BYTES,
    UploadRejected,
    list_uploads,
    recover_uploads,
    safe_upload_name,
)


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)


@pytest.mark.parametrize("letters", [300, 1000])
def test_long_names_fit_the_file_system(tmp_path: Path, letters: int) -> None:
    name = safe_upload_name("ệ" * letters + ".docx")
    assert len(name.encode()) <= MAX_NAME_BYTES and name.endswith(".docx")
    (tmp_path / name).write_bytes(b"x")  # the file system takes it
    (tmp_path / (name[: -len(".docx")] + " (999).docx")).write_bytes(b"x")  # and its numbered twin


def test_names_that_shorten_to_nothing_are_refused() -> None:
    with pytest.raises(UploadRejected):
        safe_upload_name("  ...  .txt")


def test_recovery_rolls_back_what_a_killed_process_left(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    uploads = corpus / "uploads"
    uploads.mkdir(parents=True)
    dead = _dead_pid()
    # a finished upload, a half-done one (saved, never indexed), a half-done replacement and temp files
    (uploads / "xong.txt").write_text("đã nạp", encoding="utf-8")
    (uploads / "dở.txt").write_text("chưa nạp", encoding="utf-8")
    (uploads / "thay.txt").write_text("bản mới chưa nạp", encoding="utf-8")
    (uploads / f".replaced-{dead}-abcd").write_text("bản cũ", encoding="utf-8")
    (uploads / f".upload-{dead}-0123").write_bytes("nửa tệp".encode())
    base = {"original_name": "", "sender": "khách@127.0.0.1", "client": "127.0.0.1", "size": 1, "sha256": ""}
    ledger = {
        "xong.txt": {
            **base,
            "name": "xong.txt",
            "uploaded_at": "2026-01-01T00:00:00+00:00",
            "status": "indexed",
            "pid": dead,
        },
        "dở.txt": {
            **base,
            "name": "dở.txt",
            "uploaded_at": "2026-01-02T00:00:00+00:00",
            "status": "pending",
            "pid": dead,
        },
        "thay.txt": {
            **base,
            "name": "thay.txt",
            "uploaded_at": "2026-01-03T00:00:00+00:00",
            "status": "pending",
            "pid": dead,
            "backup": f".replaced-{dead}-abcd",
            "previous": {
                **base,
                "name": "thay.txt",
                "uploaded_at": "2025-12-31T00:00:00+00:00",
                "status": "indexed",
            },
        },
    }
    (corpus / LEDGER_NAME).write_text(json.dumps(ledger, ensure_ascii=False), encoding="utf-8")

    removed = recover_uploads(corpus)
    assert set(removed) >= {"dở.txt", "thay.txt", f".upload-{dead}-0123"}
    assert sorted(p.name for p in uploads.iterdir()) == ["thay.txt", "xong.txt"]
    assert (uploads / "thay.txt").read_text(encoding="utf-8") == "bản cũ"  # the replaced version is back
    assert {r.name: r.status for r in list_uploads(corpus)} == {"xong.txt": "indexed", "thay.txt": "indexed"}
    assert recover_uploads(corpus) == []  # idempotent


def test_recovery_writes_nothing_into_a_folder_that_never_took_an_upload(tmp_path: Path) -> None:
    # a folder ingested in place (someone's documents, a shared set) is read, never written
    corpus = tmp_path / "tai-lieu"
    corpus.mkdir()
    (corpus / "bao-cao.txt").write_text("Báo cáo", encoding="utf-8")
    assert recover_uploads(corpus) == []
    assert sorted(p.name for p in corpus.iterdir()) == ["bao-cao.txt"]


def test_recovery_leaves_a_live_process_alone(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    uploads = corpus / "uploads"
    uploads.mkdir(parents=True)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (uploads / f".upload-{live.pid}-0123").write_bytes("đang ghi".encode())
        (uploads / "đang nạp.txt").write_text("x", encoding="utf-8")
        ledger = {
            "đang nạp.txt": {
                "name": "đang nạp.txt",
                "original_name": "đang nạp.txt",
                "sender": "",
                "client": "",
                "uploaded_at": "2026-01-01T00:00:00+00:00",
                "size": 1,
                "sha256": "",
                "status": "pending",
                "pid": live.pid,
            }
        }
        (corpus / LEDGER_NAME).write_text(json.dumps(ledger, ensure_ascii=False), encoding="utf-8")
        assert recover_uploads(corpus) == []
        assert (uploads / "đang nạp.txt").exists() and (uploads / f".upload-{live.pid}-0123").exists()
    finally:
        live.kill()
        live.wait()
