"""``write_json`` streams: the same text as masking the whole document, written in pieces."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from sloctl.cli import fmt
from sloctl.redact import redact, register_secret


@dataclass(frozen=True)
class Item:
    name: str
    url: str
    at: datetime
    value: float | None


class CountingOut(io.StringIO):
    writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def test_streamed_json_is_the_masked_document_written_in_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register_secret("s3cr3t-token-for-write-json")
    doc = {"items": [Item(f"svc-{i}", f"http://user:pw{i}@127.0.0.1:9090/?token=x{i}",
                          datetime(2026, 12, 7, tzinfo=UTC), None if i % 7 else i / 3)
                     for i in range(5000)],
           "note": "s3cr3t-token-for-write-json"}
    out = CountingOut()
    monkeypatch.setattr(sys, "stdout", out)
    fmt.write_json(doc)
    text = out.getvalue()
    assert text == redact(fmt.to_json(doc)) + "\n"
    assert "s3cr3t-token-for-write-json" not in text and ":pw1@" not in text
    assert out.writes > len(text) // fmt.JSON_BATCH_CHARS  # never the whole text at once
