"""HybridRetriever on the real index (real Chroma, real e5, real BM25): scope, variants, LangChain use."""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.retrieval import HybridRetriever, Scope
from assistant.understanding import understand

NGHE_AN = "004_a33d8be99f4285d3.txt"
MASTERS_Q = "Nghệ An đào tạo bao nhiêu thạc sỹ?"


def _retriever(assistant: Any) -> HybridRetriever:
    retriever: HybridRetriever = assistant.retriever
    return retriever


def test_is_a_langchain_retriever(assistant: Any) -> None:
    retriever = _retriever(assistant)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(MASTERS_Q)
    assert docs and all(isinstance(d, Document) for d in docs)
    assert docs[0].metadata["source"] == NGHE_AN and docs[0].metadata["province"] == "Nghệ An"
    assert any("935" in d.page_content for d in docs[:3])
    # What a chain gets is the stored passage: id, exact offsets, no stray text field in metadata.
    top = docs[0]
    assert top.id == top.metadata["chunk_id"] and "text" not in top.metadata
    assert top.metadata["end"] - top.metadata["start"] == len(top.page_content)


def test_question_province_scopes_the_search(assistant: Any) -> None:
    """A question about Lào Cai is answered from Lào Cai passages only, never from Nghệ An's 935."""
    retriever = _retriever(assistant)
    q = understand("Lào Cai có bao nhiêu cán bộ học thạc sĩ?")
    scope = retriever.scope_for(q)
    assert scope.provinces == ["Lào Cai"] and not scope.empty
    passages = retriever.search(q, scope)
    assert passages and {p.province for p in passages} == {"Lào Cai"}
    assert not any("935 cán bộ học thạc" in p.text for p in passages)


def test_ui_filters_override_and_combine(assistant: Any) -> None:
    retriever = _retriever(assistant)
    q = understand("kết quả đào tạo, bồi dưỡng cán bộ")
    assert retriever.scope_for(q).provinces is None  # no province asked: the whole corpus
    only_hd = retriever.search(q, Scope(provinces=["Hải Dương"]))
    assert only_hd and {p.province for p in only_hd} == {"Hải Dương"}
    doc = only_hd[0].doc_id
    one_doc = retriever.search(q, Scope(doc_ids=[doc]))
    assert one_doc and {p.doc_id for p in one_doc} == {doc}
    # A document of another province under a province filter: nothing, rather than anything.
    assert retriever.search(q, Scope(provinces=["Nghệ An"], doc_ids=[doc])) == []


def test_province_outside_the_corpus_gives_an_empty_scope(assistant: Any) -> None:
    retriever = _retriever(assistant)
    q = understand("Yên Bái đào tạo bao nhiêu thạc sĩ?")
    scope = retriever.scope_for(q)
    assert scope.empty and scope.unknown_provinces == ["Yên Bái"]
    assert retriever.search(q, scope) == []


def test_accent_free_and_spelling_variants_find_the_same_passage(assistant: Any) -> None:
    retriever = _retriever(assistant)
    best = retriever.search(understand(MASTERS_Q))[0].chunk_id
    for variant in (
        "nghe an dao tao bao nhieu thac sy",
        "Nghệ An đào tạo bao nhiêu thạc sĩ?",
        "NGHỆ AN ĐÀO TẠO BAO NHIÊU THẠC SỸ",
    ):
        top3 = [p.chunk_id for p in retriever.search(understand(variant), k=3)]
        assert best in top3, variant


def test_uy_variants_match(assistant: Any) -> None:
    retriever = _retriever(assistant)
    a = [p.chunk_id for p in retriever.search(understand("Ban Thường vụ Tỉnh ủy Nghệ An kết luận gì?"), k=3)]
    b = [p.chunk_id for p in retriever.search(understand("Ban Thường vụ Tỉnh uỷ Nghệ An kết luận gì?"), k=3)]
    assert a == b


def test_abbreviations_are_expanded_for_matching(assistant: Any) -> None:
    q = understand("Hòa Bình có bao nhiêu ĐV học LLCT?")
    assert q.abbreviations["LLCT"] == "lý luận chính trị"
    assert "lý luận chính trị" in q.search_text
    passages = _retriever(assistant).search(q)
    assert passages and passages[0].province == "Hòa Bình"
    top = passages[0].text.lower()
    assert "llct" in top or "lý luận chính trị" in top


def test_lexical_only_fusion_keeps_bm25_order(assistant: Any) -> None:
    """With no dense results (vector store unreachable) the BM25 ranking is used as is."""
    lex = [("a", 9.0), ("b", 5.0), ("c", 1.0)]
    fused = _retriever(assistant)._fuse(lex, [])
    assert [cid for cid, _ in fused] == ["a", "b", "c"]


def test_current_province_reaches_former_parts_and_former_only_itself(assistant: Any) -> None:
    """Since 2025 Hòa Bình is part of Phú Thọ: a Phú Thọ question reaches Hòa Bình's document (and says
    so in its scope's origin); a Yên Bái question never reaches Lào Cai's, into which Yên Bái merged."""
    retriever = _retriever(assistant)
    scope = retriever.scope_for(understand("Phú Thọ mở bao nhiêu lớp trung cấp lý luận chính trị?"))
    assert scope.provinces == ["Hòa Bình"] and scope.origin == {"Hòa Bình": "Phú Thọ"}
    passages = retriever.search(understand("Phú Thọ mở bao nhiêu lớp trung cấp lý luận chính trị?"), scope)
    assert passages and {p.province for p in passages} == {"Hòa Bình"}
    yb = retriever.scope_for(understand("Yên Bái đào tạo bao nhiêu cán bộ cấp xã?"))
    assert yb.empty and yb.unknown_provinces == ["Yên Bái"]
    # a pre-merger period names the former province: Lào Cai 2010–2015 is Lào Cai alone
    assert retriever.scope_for(understand("Lào Cai giai đoạn 2010-2015 đào tạo bao nhiêu cán bộ?")).provinces == [
        "Lào Cai"
    ]


def test_scoped_dense_search_by_ids_equals_the_metadata_filter(assistant: Any) -> None:
    """The scope's id list (the fast path) finds exactly what Chroma's `where` filter finds."""
    retriever = _retriever(assistant)
    q = understand("Lào Cai đào tạo trình độ lý luận chính trị cho bao nhiêu cán bộ?")
    scope = retriever.scope_for(q)
    allowed = retriever._allowed_ids(scope)
    assert allowed and scope.searched
    vec = retriever.embeddings.embed_query(q.search_text)
    by_ids = retriever._dense(vec, 30, scope, allowed)
    by_where = retriever.vectors.query(vec, 30, where=retriever._where(scope))
    assert [c for c, _ in by_ids] == [c for c, _ in by_where]
    assert {c for c, _ in by_ids} <= allowed


def test_ids_unknown_to_chroma_fall_back_to_the_filter(assistant: Any) -> None:
    """A chunk deleted from Chroma after the lexical snapshot must not cost the dense hits."""
    from assistant import health

    retriever = _retriever(assistant)
    q = understand("Nghệ An đào tạo bao nhiêu thạc sỹ?")
    scope = retriever.scope_for(q)
    allowed = retriever._allowed_ids(scope)
    assert allowed
    vec = retriever.embeddings.embed_query(q.search_text)
    failed = health.counters()[health.DENSE_FAILED]
    hits = retriever._dense(vec, 30, scope, allowed | {"khong-co-trong-chroma"})
    assert hits and {c for c, _ in hits} <= allowed
    assert health.counters()[health.DENSE_FAILED] == failed
