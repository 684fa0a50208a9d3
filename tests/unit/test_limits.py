"""The PDF page limit's counting: the bound that spares it is never below the count, validation
counts only the PDFs that could be over the limit, and the token estimate does not count those
again."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockbay.usage.estimate import PDF_PAGE_TOKENS, estimate_input_tokens
from mockbay.wire import limits
from mockbay.wire.limits import pdf_pages, pdf_pages_at_most
from mockbay.wire.validate import validate_messages
from tests.unit.test_validate import body, text, user

BOUNDED = settings(max_examples=300, deadline=None, derandomize=True, database=None)
PIECES = [b"/Type/Page", b"/Type /Page", b"/Type\n/Page\n", b"/Type /Pages", b"<<", b" ", b"x"]


@BOUNDED
@given(raw=st.one_of(st.lists(st.sampled_from(PIECES), max_size=400).map(b"".join), st.binary()))
def test_the_page_bound_is_never_below_the_count(raw: bytes) -> None:
    data = base64.b64encode(raw).decode()
    assert pdf_pages(data) <= pdf_pages_at_most(data)


@BOUNDED
@given(data=st.text())
def test_the_bound_holds_for_data_that_is_not_base64(data: str) -> None:
    assert 1 <= pdf_pages(data) <= pdf_pages_at_most(data)


def test_the_densest_pdf_meets_its_bound() -> None:
    data = base64.b64encode(b"/Type/Page" * 300).decode()
    assert pdf_pages(data) == 300 <= pdf_pages_at_most(data) < 302


def document(pages: int, marker: bytes) -> dict[str, Any]:
    """A base64 PDF whose data no other test sends (`marker`), so no count is kept from before."""
    raw = b"%PDF-1.4\n% " + marker + b"\n" + b"<< /Type /Page >>\n" * pages + b"%%EOF\n"
    source = {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(raw).decode()}
    return {"type": "document", "source": source}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The data of each PDF whose pages are counted (decoded and searched), in order."""
    calls: list[str] = []
    count = limits._count_pages

    def spy(data: str) -> int:
        calls.append(data)
        return count(data)

    monkeypatch.setattr(limits, "_count_pages", spy)
    return calls


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_a_long_pdf_is_counted_once_for_validation_and_the_estimate(counted: list[str], strict: bool) -> None:
    long = document(99, f"long {strict}".encode())
    data = long["source"]["data"]
    assert pdf_pages_at_most(data) > limits.MAX_PDF_PAGES  # it could be over the limit by itself
    payload = body(messages=[user(long, text("Summarise"))])
    validate_messages(payload, {}, strict=strict)
    assert counted == [data]
    assert estimate_input_tokens(payload) >= 99 * PDF_PAGE_TOKENS
    assert counted == [data]


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_short_pdfs_are_not_counted_by_validation(counted: list[str], strict: bool) -> None:
    short = [document(2, f"short {n} {strict}".encode()) for n in range(3)]
    assert sum(pdf_pages_at_most(d["source"]["data"]) for d in short) <= limits.MAX_PDF_PAGES
    payload = body(messages=[user(*short, text("Compare"))])
    validate_messages(payload, {}, strict=strict)
    assert counted == []
    assert estimate_input_tokens(payload) >= 6 * PDF_PAGE_TOKENS
