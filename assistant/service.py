"""The assistant as one object: index loading, the three modes, grounding on every answer.

CLI, HTTP API and the Gradio app all call ``Assistant.ask`` / ``Assistant.stream``, so
they behave identically and are tested once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from assistant import learn
from assistant.chain import build_chain, format_context, refusal
from assistant.citations import attribute_single_source, make_citation, renumber
from assistant.extractive import Extract, Scorer, best_extract, idf_table, tokens
from assistant.figures import extract_figures
from assistant.grounding import check
from assistant.injection import is_instruction
from assistant.retrieval import HybridRetriever, Scope
from assistant.settings import Settings
from assistant.types import MODES, Answer, Citation, Mode, Passage
from assistant.understanding import Query, understand
from ingest.chunking import sentence_spans
from ingest.embeddings import embedder_name, get_embeddings
from ingest.index import LexicalIndex, VectorIndex, sync_lexical

_SIGN = re.compile(r"\b(ký|ki|ky)\b", re.I)
_BYLINE_Q = re.compile(r"\b(ký|ki|ky|viết|tác giả|chức vụ|người ký|bút danh)\b", re.I)
_NAME = re.compile(r"(?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]+\s){1,3}[A-ZĐÀ-Ỹ][a-zà-ỹđ]+|(?:[A-ZĐÀ-Ỹ]{2,}\s){1,3}[A-ZĐÀ-Ỹ]{2,}")
_ROLE_WORDS = re.compile(r"\b(BAN|THƯỜNG|VỤ|BÍ THƯ|CHỦ TỊCH|T/M|TM|KT|TỈNH|ỦY|UBND)\b")


def _byline(p: Passage) -> tuple[str, str, tuple[int, int]] | None:
    """(name, role, span in passage) of a signature/author block at the end of a passage."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in p.text.split("\n"):
        if line.strip():
            a = pos + len(line) - len(line.lstrip())
            lines.append((a, pos + len(line.rstrip())))
        pos += len(line) + 1
    tail = lines[-4:]
    for i in range(len(tail) - 1, -1, -1):
        a, b = tail[i]
        text = p.text[a:b].strip("* ")
        if not _NAME.fullmatch(text) or _ROLE_WORDS.search(text):
            continue
        start, end = a, b
        role = ""
        if i + 1 < len(tail) and p.text[tail[i + 1][0]] == "(":
            role = p.text[tail[i + 1][0] : tail[i + 1][1]].strip("() ")
            end = tail[i + 1][1]
        else:
            above = [t for t in tail[:i] if p.text[t[0] : t[1]].strip("* ").isupper()]
            if above:
                role = " ".join(p.text[x[0] : x[1]].strip("* ") for x in above)
                start = above[0][0]
        return text, " ".join(role.split()), (start, end)
    return None


_MEASURE = re.compile(
    r"\b(tăng cường|đổi mới|nâng cao|xây dựng|đa dạng hóa|đa dạng hoá|chú trọng|quan tâm|tiếp tục|bổ sung|"
    r"thực hiện|phối hợp|ưu tiên|quán triệt|đầu tư|mở các lớp|luân chuyển|thí điểm|cần|phấn đấu)\b",
    re.I,
)
_ORDINAL = re.compile(
    r"^(?:Một là|Hai là|Ba là|Bốn là|Năm là|Sáu là|Thứ \w+|\d{1,2}[.)]|[IVX]+\.)[,:.]?\s*", re.I
)


_LEAD_IN = re.compile(r"^(?:Đồng thời|Bên cạnh đó|Từ đó|Trên cơ sở đó|Ngoài ra|Tuy nhiên)\s*,\s*", re.I)


def _measure_end(p: Passage, start: int, end: int, limit: int = 240) -> int:
    """End a long measure at its first clause (";"), so a bullet stays one readable point."""
    text = p.text[start - p.start : end - p.start]
    if len(text) <= limit:
        return end
    cut = text.find(";", 60)
    return start + cut if 0 < cut <= limit + 80 else end


@dataclass
class DocInfo:
    doc_id: str
    source: str
    title: str
    province: str
    period: str
    doc_type: str
    chunks: int


class Assistant:
    def __init__(
        self,
        settings: Settings,
        vectors: VectorIndex,
        lexical: LexicalIndex,
        embeddings: Embeddings,
    ) -> None:
        self.settings = settings
        self.vectors = vectors
        self.embeddings = embeddings
        self._llm: BaseChatModel | None = None
        self._llm_loaded = False
        self._lock = threading.RLock()
        self._set_lexical(lexical)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Settings, ensure_index: bool = False) -> Assistant:
        from ingest.index import IndexError_, index_failure

        emb = get_embeddings(settings)
        try:
            vectors = VectorIndex(settings, embedder_name(emb))
            if ensure_index and vectors.count() == 0:
                from ingest.pipeline import run_ingest

                run_ingest(settings)
            lexical, _ = sync_lexical(Path(settings.index_dir), vectors)
        except IndexError_:
            raise
        except Exception as e:  # chromadb/OS errors: say where the index is and why it fails
            raise index_failure(settings, "Không mở được chỉ mục", "cannot open the index", e) from e
        return cls(settings, vectors, lexical, emb)

    def _set_lexical(self, lexical: LexicalIndex) -> None:
        self.lexical = lexical
        self.retriever = HybridRetriever(
            vectors=self.vectors,
            lexical=lexical,
            embeddings=self.embeddings,
            k=self.settings.top_k,
            fusion=self.settings.fusion,
            dense_weight=self.settings.dense_weight,
        )
        self.passages = [
            Passage.from_record(r.chunk_id, r.text, r.index_text, r.meta) for r in lexical.records
        ]
        self.passages.sort(key=lambda p: (p.source, p.start))
        self.idf = idf_table(p.text for p in self.passages)
        self.glossary = learn.mine_glossary(self.passages)
        self.regulations = learn.mine_regulations(self.passages)

    def reload(self) -> None:
        """Pick up what another process (or an upload) added to the index."""
        with self._lock:
            lexical, _ = sync_lexical(Path(self.settings.index_dir), self.vectors)
            self._set_lexical(lexical)

    def ingest(self, paths: list[Path], progress: Any = None) -> Any:
        from ingest.pipeline import run_ingest

        report = run_ingest(self.settings, paths, progress=progress, prune=False)
        self.reload()
        return report

    def documents(self) -> list[DocInfo]:
        docs: dict[str, DocInfo] = {}
        for p in self.passages:
            d = docs.get(p.doc_id)
            if d is None:
                docs[p.doc_id] = DocInfo(p.doc_id, p.source, p.title, p.province, p.period, p.doc_type, 1)
            else:
                d.chunks += 1
        return sorted(docs.values(), key=lambda d: d.source)

    @property
    def llm(self) -> BaseChatModel | None:
        if not self._llm_loaded:
            with self._lock:
                if not self._llm_loaded:
                    from assistant.llm import get_chat_model

                    self._llm = get_chat_model(self.settings)
                    self._llm_loaded = True
        return self._llm

    # -- public API -----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        mode: Mode | str = "qa",
        history: list[str] | None = None,
        provinces: list[str] | None = None,
        doc_ids: list[str] | None = None,
        use_llm: bool | None = None,
    ) -> Answer:
        final: Answer | None = None
        for _, ans in self.stream(question, mode, history, provinces, doc_ids, use_llm):
            if ans is not None:
                final = ans
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        mode: Mode | str = "qa",
        history: list[str] | None = None,
        provinces: list[str] | None = None,
        doc_ids: list[str] | None = None,
        use_llm: bool | None = None,
    ) -> Iterator[tuple[str, Answer | None]]:
        """Yields (verified text so far, None) while generating, then ("", final Answer)."""
        if mode not in MODES:
            raise ValueError(f"chế độ không hợp lệ / unknown mode: {mode!r} (qa, draft, learn)")
        question = (question or "").strip()
        if not question:
            raise ValueError("câu hỏi trống / empty question")
        t0 = time.perf_counter()
        q = understand(question, history)
        timings: dict[str, float] = {"understand": (time.perf_counter() - t0) * 1000}
        scope = self.retriever.scope_for(q, provinces, doc_ids)
        want_llm = self.settings.llm != "none" if use_llm is None else use_llm
        m: Mode = mode  # type: ignore[assignment]
        if m == "learn" or (m == "qa" and self._is_learn_question(q)):
            gen = self._learn(q, scope, want_llm, timings, mode=m)
        elif m == "draft":
            gen = self._draft(q, scope, want_llm, timings)
        else:
            gen = self._qa(q, scope, want_llm, timings)
        for text, ans in gen:
            if ans is not None:
                ans.question = question
                ans.resolved_question = q.text
                ans.mode = m
                ans.timings_ms = {**timings, "total": (time.perf_counter() - t0) * 1000}
            yield text, ans

    # -- qa ---------------------------------------------------------------------------------
    def _is_learn_question(self, q: Query) -> bool:
        if learn.is_summary_question(q.text):
            return True
        return bool(learn.find_abbreviation(q.text, self.glossary)) and bool(
            learn.ABBR_QUESTION.search(q.text)
        )

    def _refuse(self, q: Query, scope: Scope, detail: str = "") -> Answer:
        if not detail and scope.unknown_provinces:
            detail = "kho tài liệu chưa có văn bản về " + ", ".join(scope.unknown_provinces)
        elif not detail and q.provinces:
            detail = "không tìm thấy nội dung này trong tài liệu về " + ", ".join(q.provinces)
        return Answer(answer=refusal(detail), refused=True, mode="qa", path="refusal")

    def _search(
        self, q: Query, scope: Scope, timings: dict[str, float], k: int | None = None
    ) -> list[Passage]:
        t = time.perf_counter()
        with self._lock:
            passages = self.retriever.search(q, scope, k=k)
        timings["retrieve"] = timings.get("retrieve", 0.0) + (time.perf_counter() - t) * 1000
        return passages

    def _qa(
        self, q: Query, scope: Scope, want_llm: bool, timings: dict[str, float]
    ) -> Iterator[tuple[str, Answer | None]]:
        if scope.empty:
            yield "", self._refuse(q, scope)
            return
        if scope.provinces and len(scope.provinces) >= 2 and q.kind not in ("general", "who", "where"):
            yield "", self._compare(q, scope, timings)
            return
        if q.kind in ("who", "general") and _BYLINE_Q.search(q.text):
            ans = self._signer(q, scope)
            if ans:
                yield "", ans
                return
        passages = self._search(q, scope, timings)
        t = time.perf_counter()
        ex = best_extract(q, passages, self.idf)
        timings["extract"] = (time.perf_counter() - t) * 1000
        if ex is None:
            ans = self._refuse(q, scope)
            ans.retrieved_sources = [p.source for p in passages]
            yield "", ans
            return
        answer = self._extractive_answer(q, ex)
        answer.retrieved_sources = [p.source for p in passages]
        llm = self.llm if want_llm and (not q.wants_figure or self.settings.rephrase_figures) else None
        if llm is None:
            yield "", answer
            return
        yield answer.answer, None  # the verified extractive answer shows at once
        context_items = [(1, ex.passage, ex.passage.text)]
        yield from self._generate(
            "qa", q, context_items, [answer.citations[0]], answer, timings, must_have=ex
        )

    def _extractive_answer(self, q: Query, ex: Extract) -> Answer:
        p = ex.passage
        quote = " ".join(ex.quote.split())
        clause = " ".join(ex.clause.split())
        where = p.province or p.title
        if clause and clause != quote and len(quote) > len(clause) + 10:
            # the direct answer first; the whole clause after it, verbatim, so nothing is out of context
            text = f"{where}: {_sentence(clause)} [1]. Nguyên văn: «{quote}» [1]."
        else:
            text = f"{where}: {_sentence(quote)} [1]."
        cit = make_citation(1, p, ex.start, ex.end)
        return Answer(answer=text, refused=False, mode="qa", citations=[cit], path="extractive")

    def _compare(self, q: Query, scope: Scope, timings: dict[str, float]) -> Answer:
        lines: list[str] = []
        cits: list[Citation] = []
        sources: list[str] = []
        for prov in scope.provinces or []:
            sub = Scope(provinces=[prov], doc_ids=scope.doc_ids)
            passages = self._search(q, sub, timings)
            sources += [p.source for p in passages]
            ex = best_extract(q, passages, self.idf, min_coverage=0.35)
            if ex is None:
                lines.append(f"- {prov}: tài liệu hiện có không có thông tin này.")
                continue
            n = len(cits) + 1
            cits.append(make_citation(n, ex.passage, ex.start, ex.end))
            lines.append(f"- {prov}: {_sentence(ex.quote.strip())} [{n}].")
        if not cits:
            ans = self._refuse(q, scope)
        else:
            ans = Answer(answer="\n".join(lines), refused=False, mode="qa", citations=cits, path="extractive")
        ans.retrieved_sources = sources
        return ans

    def _signer(self, q: Query, scope: Scope) -> Answer | None:
        """ "Ai ký / ai viết …?": the signature or byline closes the document, where no question word occurs."""
        last: dict[str, Passage] = {}
        for p in self.passages:
            if scope.provinces and p.province not in scope.provinces:
                continue
            if scope.doc_ids and p.doc_id not in scope.doc_ids:
                continue
            if p.doc_id not in last or p.start > last[p.doc_id].start:
                last[p.doc_id] = p
        ranked = sorted(
            last.values(), key=lambda p: -Scorer(q, self.idf).coverage(tokens(p.title + " " + p.text))
        )
        for p in ranked:
            found = _byline(p)
            if found is None:
                continue
            name, role, (a, b) = found
            cit = make_citation(1, p, p.start + a, p.start + b)
            who = f"đồng chí {name}" if name.istitle() else name
            verb = "ký" if _SIGN.search(q.text) and re.search(r"T/M|TM\.|KT\.", p.text) else "là tác giả"
            role_txt = f" ({role})" if role else ""
            text = f"{p.province or p.title}: {who}{role_txt} {verb} [1]."
            return Answer(answer=text, refused=False, mode="qa", citations=[cit], path="extractive")
        return None

    # -- generation with grounding -------------------------------------------------------
    def _generate(
        self,
        mode: str,
        q: Query,
        items: list[tuple[int, Passage, str]],
        citations: list[Citation],
        fallback: Answer,
        timings: dict[str, float],
        must_have: Extract | None = None,
        min_provinces: int = 0,
    ) -> Iterator[tuple[str, Answer | None]]:
        """Stream the LLM's answer sentence by sentence, each checked before it is shown."""
        from assistant.llm import LLMUnavailable, llm_slot

        llm = self.llm
        assert llm is not None
        chain = build_chain(llm, mode)
        context = format_context(items)
        t = time.perf_counter()
        buf = ""
        shown = ""
        try:
            with llm_slot(self.settings):
                for piece in chain.stream({"question": q.text, "context": context}):
                    buf += piece
                    cut = max(buf.rfind(". "), buf.rfind("\n"), buf.rfind("] "))
                    if cut > len(shown):
                        candidate = buf[: cut + 1]
                        g = check(attribute_single_source(candidate, citations), citations, q)
                        if not g.ok:
                            break
                        shown = candidate
                        yield shown, None
        except LLMUnavailable as e:
            fallback.notes.append(f"LLM không sẵn sàng / LLM unavailable: {e}")
            yield "", fallback
            return
        timings["llm"] = (time.perf_counter() - t) * 1000
        text = attribute_single_source(buf.strip(), citations)
        text, cits = renumber(text, citations)
        g = check(text, cits, q)
        problems = list(g.problems)
        if not cits:
            problems.append("không có trích dẫn / no citation")
        if (
            must_have is not None
            and must_have.figure is not None
            and must_have.figure.value not in {f.value for f in extract_figures(text)}
        ):
            problems.append("thiếu số liệu của đoạn trích / the cited figure is missing")
        if min_provinces and len({c.province for c in cits if c.province}) < min_provinces:
            problems.append(f"cần trích dẫn ít nhất {min_provinces} tỉnh / too few provinces cited")
        if "không có thông tin" in text.lower() and not fallback.refused:
            problems.append("LLM từ chối dù có đoạn trích / LLM refused an answerable question")
        if problems:
            fallback.notes.append("Bản do LLM soạn bị thay bằng bản trích xuất: " + "; ".join(problems))
            yield "", fallback
            return
        yield (
            "",
            Answer(
                answer=text,
                refused=False,
                mode=fallback.mode,
                citations=cits,
                path="llm",
                retrieved_sources=fallback.retrieved_sources,
            ),
        )

    # -- draft ------------------------------------------------------------------------------
    def _draft(
        self, q: Query, scope: Scope, want_llm: bool, timings: dict[str, float]
    ) -> Iterator[tuple[str, Answer | None]]:
        topic_q = Query(
            **{**q.__dict__, "search_text": q.search_text + " giải pháp nhiệm vụ tăng cường đổi mới"}
        )
        explicit = [p for p in (scope.provinces or []) if p not in q.provinces]
        wide = Scope(provinces=explicit or None, doc_ids=scope.doc_ids)
        passages = self._search(topic_q, wide, timings, k=24)
        scorer = Scorer(q, self.idf)
        picks: list[tuple[Passage, tuple[int, int], float]] = []
        for rank, p in enumerate(passages):
            best: tuple[tuple[int, int], float] | None = None
            sol_section = bool(re.search(r"giải pháp|nhiệm vụ|đổi mới|tổ chức thực hiện", p.section, re.I))
            for s, e in sentence_spans(p.text, 0, len(p.text)):
                sent = p.text[s:e]
                if len(sent) < 60 or is_instruction(sent):
                    continue
                score = scorer.coverage(tokens(sent)) + (0.3 if _MEASURE.search(sent) else 0.0)
                score -= 0.15 * min(3, len(extract_figures(sent)))  # results, not measures
                score += 0.2 if _ORDINAL.match(sent) else 0.0
                score += 0.2 if sol_section else 0.0
                score += 0.2 / (1 + rank)
                if best is None or score > best[1]:
                    best = ((p.start + s, p.start + e), score)
            if best:
                picks.append((p, best[0], best[1]))
        picks.sort(key=lambda x: -x[2])
        chosen: list[tuple[Passage, tuple[int, int]]] = []
        per_doc: dict[str, int] = {}
        provinces_seen: set[str] = set()
        # first pass: one measure per province, so the draft draws on several provinces
        for p, span, _ in picks:
            if p.province and p.province not in provinces_seen:
                chosen.append((p, span))
                provinces_seen.add(p.province)
                per_doc[p.doc_id] = 1
        for p, span, _ in picks:
            if len(chosen) >= 6:
                break
            if (p, span) in chosen or per_doc.get(p.doc_id, 0) >= 2:
                continue
            chosen.append((p, span))
            per_doc[p.doc_id] = per_doc.get(p.doc_id, 0) + 1
        chosen = chosen[:6]
        if not chosen:
            yield "", self._refuse(q, scope)
            return
        cits = [make_citation(i + 1, p, s, _measure_end(p, s, e)) for i, (p, (s, e)) in enumerate(chosen)]
        provs = sorted({c.province for c in cits if c.province})
        lines = [
            f"Trên cơ sở kinh nghiệm của {', '.join(provs)}, đề xuất một số giải pháp về {q.text.rstrip('?.')}:"
        ]
        for c in cits:
            body = _LEAD_IN.sub("", _ORDINAL.sub("", " ".join(c.quote.split())))
            body = body[0].upper() + body[1:] if body else body
            lines.append(f"- {body.rstrip('.')} ({c.province or c.title}) [{c.n}].")
        fallback = Answer(
            answer="\n".join(lines),
            refused=False,
            mode="draft",
            citations=cits,
            path="extractive",
            retrieved_sources=[p.source for p in passages],
        )
        if not want_llm or self.llm is None:
            yield "", fallback
            return
        items = [(c.n, c.passage, c.quote) for c in cits]
        yield from self._generate(
            "draft", q, items, cits, fallback, timings, min_provinces=min(2, len(provs))
        )

    # -- learn ------------------------------------------------------------------------------
    def _learn(
        self, q: Query, scope: Scope, want_llm: bool, timings: dict[str, float], mode: Mode = "learn"
    ) -> Iterator[tuple[str, Answer | None]]:
        entry = learn.find_abbreviation(q.text, self.glossary)
        if entry is not None:
            yield "", self._explain_abbreviation(entry, mode)
            return
        if learn.is_summary_question(q.text):
            ans = self._summarize(q, scope, timings)
            if ans:
                yield "", ans
                return
        if learn.is_regulation_question(q.text):
            yield "", self._list_regulations(q, scope)
            return
        # a term or topic: the best explaining sentence, optionally rephrased by the LLM
        passages = self._search(q, scope, timings)
        gq = Query(**{**q.__dict__, "kind": "general"})
        ex = best_extract(gq, passages, self.idf)
        if ex is None:
            ans = self._refuse(q, scope)
            ans.mode = mode
            yield "", ans
            return
        base = self._extractive_answer(gq, ex)
        base.mode = mode
        if not want_llm or self.llm is None:
            yield "", base
            return
        items = [(i + 1, p, p.text) for i, p in enumerate(passages[:2])]
        cits = [make_citation(i + 1, p) for i, p in enumerate(passages[:2])]
        yield from self._generate("learn", q, items, cits, base, timings)

    def _explain_abbreviation(self, e: learn.GlossaryEntry, mode: Mode) -> Answer:
        if e.passage is None or e.span is None:
            text = f"{e.abbr} là viết tắt của «{e.expansion}» (theo bảng chữ viết tắt của Trợ lý; kho tài liệu chưa dùng chữ này)."
            return Answer(answer=text, refused=False, mode=mode, path="extractive")
        cit = make_citation(1, e.passage, *e.span)
        if e.defined_in_corpus:
            text = f"{e.abbr} là viết tắt của «{e.expansion}» — tài liệu của {e.passage.province or e.passage.title} định nghĩa: «{cit.quote}» [1]."
        else:
            text = (
                f"{e.abbr} là viết tắt của «{e.expansion}» (theo bảng chữ viết tắt của Trợ lý). "
                f"Ví dụ dùng trong tài liệu của {e.passage.province or e.passage.title}: «{' '.join(cit.quote.split())}» [1]."
            )
        return Answer(answer=text, refused=False, mode=mode, citations=[cit], path="extractive")

    def _list_regulations(self, q: Query, scope: Scope) -> Answer:
        regs = self.regulations
        if scope.provinces:
            regs = [r for r in regs if r.passage.province in scope.provinces]
        nums = {n.upper() for n in re.findall(r"\d+[-/][\wĐđ/.-]+", q.text)}
        if nums:
            regs = [r for r in regs if r.number.upper() in nums] or regs
        if not regs:
            return self._refuse(q, scope, "không tìm thấy văn bản được viện dẫn")
        lines = ["Các văn bản được viện dẫn trong kho tài liệu:"]  # no computed count: not in any passage
        cits: list[Citation] = []
        for i, r in enumerate(regs, 1):
            cits.append(make_citation(i, r.passage, *r.span))
            parts = [r.label]
            if r.date:
                parts.append(f"ngày {r.date}")
            if r.issuer:
                parts.append(f"của {r.issuer}")
            desc = ", ".join(parts)
            if r.about:
                desc += f" — về {r.about}"
            lines.append(f"- {desc} ({r.passage.province or r.passage.title}) [{i}].")
        return Answer(answer="\n".join(lines), refused=False, mode="learn", citations=cits, path="extractive")

    def _summarize(self, q: Query, scope: Scope, timings: dict[str, float]) -> Answer | None:
        passages = self._search(q, scope, timings, k=3)
        if not passages:
            return None
        doc_id = passages[0].doc_id
        doc = [p for p in self.passages if p.doc_id == doc_id]
        sections: dict[str, Passage] = {}
        for p in doc:
            if not re.search(r"nơi nhận", p.section, re.I):
                sections.setdefault(p.section, p)
        picks = list(sections.values())[:6]
        if len(picks) < 3:
            picks = doc[: min(5, len(doc))]
        head = doc[0]
        lines = [
            f"Tóm tắt «{head.title}» ({head.doc_type or 'tài liệu'}, {head.province or 'không rõ tỉnh'}):"
        ]
        cits: list[Citation] = []
        scorer = Scorer(q, self.idf)

        def fit(p: Passage, se: tuple[int, int]) -> float:
            sent = p.text[se[0] : se[1]]
            short = 0.5 if len(sent) < 40 else 0.0
            return scorer.coverage(tokens(sent)) + 0.1 * min(3, len(extract_figures(sent))) - short

        for i, p in enumerate(picks, 1):
            spans = sentence_spans(p.text, 0, len(p.text))
            s, e = max(spans, key=lambda se, p=p: fit(p, se))  # type: ignore[misc]
            cits.append(make_citation(i, p, p.start + s, p.start + e))
            label = f"{p.section}: " if p.section and len(p.section) <= 70 else ""
            lines.append(f"- {label}{' '.join(cits[-1].quote.split())} [{i}]")
        return Answer(answer="\n".join(lines), refused=False, mode="learn", citations=cits, path="extractive")


def _sentence(span: str) -> str:
    """A verbatim span as the answer's sentence: capitalised, its own final stop dropped
    (the sentence ends after the marker: "… trên [1].", not "… trên. [1].")."""
    span = span.rstrip(" .;,:")
    return span[:1].upper() + span[1:]
