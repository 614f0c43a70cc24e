"""How a verbatim span becomes an answer a person can paste: a whole sentence that names its
subject, ends with its marker, and quotes the document only where it is not already its words."""

from __future__ import annotations

from assistant.citations import make_citation
from assistant.extractive import Extract
from assistant.types import Answer
from assistant.understanding import Query


def extractive_answer(q: Query, ex: Extract, mode: str = "qa") -> Answer:
    p = ex.passage
    quote = " ".join(ex.quote.split())
    clause = " ".join(ex.clause.split())
    where = p.province or p.title
    if clause and clause != quote and len(quote) > len(clause) + 10:
        # the direct answer first; the whole clause after it, verbatim, so nothing is out of context
        text = f"{where}: {sentence(clause)} [1]. Nguyên văn: «{quote}» [1]."
    else:
        text = f"{where}: {sentence(quote)} [1]."
    cit = make_citation(1, p, ex.start, ex.end)
    return Answer(answer=text, refused=False, mode=mode, citations=[cit], path="extractive")


def sentence(span: str) -> str:
    """A verbatim span as the answer's sentence: capitalised, its own final stop dropped
    (the sentence ends after the marker: "… trên [1].", not "… trên. [1].")."""
    span = span.rstrip(" .;,:")
    return span[:1].upper() + span[1:]
