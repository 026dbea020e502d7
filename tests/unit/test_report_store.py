"""The report's store part on SQLite and PostgreSQL: inputs stored once, scorecards per (period,
scope), and the send record's exactly-once protocol (claim, lease, commit point, uncertain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sloctl.store import Store, StoreReader
from sloctl.store.reports import SendClaim, SendState
from tests.support.store_backends import postgres, store_url  # noqa: F401 (fixtures)

T0 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
CLAIM = SendClaim("k1", "2026-W49", "organisation", ("a@example.com", "b@example.com"),
                  "<report-2026-W49-organisation-k1@example.com>")


def test_inputs_are_stored_once_and_scorecards_replaced(store_url: str) -> None:  # noqa: F811
    end = T0 - timedelta(hours=7)
    with Store(store_url, upgrade=True) as store:
        assert store.reports.save_inputs("2026-W49", end - timedelta(days=7), end, T0,
                                         {"x": 1.5})
        assert not store.reports.save_inputs("2026-W49", end, end, T0, {"x": 2})
        store.reports.save_scorecard("2026-W49", "team/pay", T0, {"v": 1})
        store.reports.save_scorecard("2026-W49", "team/pay", T0, {"v": 2})
        store.reports.save_scorecard("2026-W49", "organisation", T0, {"v": 3})
    with StoreReader(store_url) as reader:
        assert reader.reports.inputs("2026-W49") == {"x": 1.5}
        assert reader.reports.inputs("2026-W48") is None
        assert reader.reports.periods() == [("2026-W49", end - timedelta(days=7), end, T0)]
        assert reader.reports.scorecard("2026-W49", "team/pay") == {"v": 2}
        assert reader.reports.scopes("2026-W49") == ["organisation", "team/pay"]


def test_a_claim_is_one_row_and_one_sender_at_a_time(store_url: str) -> None:  # noqa: F811
    with Store(store_url, upgrade=True) as store:
        r = store.reports
        first = r.claim(CLAIM, T0)
        again = r.claim(CLAIM, T0 + timedelta(hours=1))
        assert first == again and first.state is SendState.PENDING and first.created_at == T0
        taken = r.begin("k1", T0, LEASE)
        assert taken is not None and taken.attempts == 1 and taken.state is SendState.SENDING
        assert r.begin("k1", T0 + timedelta(seconds=59), LEASE) is None  # leased
        # the holder died before the end of its data: taken again after the lease
        retaken = r.begin("k1", T0 + timedelta(seconds=60), LEASE)
        assert retaken is not None and retaken.attempts == 2
        # the first sender wakes up: it lost the record and must not end the data
        assert not r.committing("k1", 1, T0 + timedelta(seconds=61), LEASE)
        assert r.committing("k1", 2, T0 + timedelta(seconds=61), LEASE)
        r.sent("k1", 2, T0 + timedelta(seconds=62))
        done = r.send("k1")
        assert done is not None and done.state is SendState.SENT and done.attempts == 2
        assert done.sent_at == T0 + timedelta(seconds=62) and done.lease_until is None
        assert r.begin("k1", T0 + timedelta(days=1), LEASE) is None  # never twice


def test_a_sender_that_died_while_committing_leaves_it_uncertain(store_url: str) -> None:  # noqa: F811
    with Store(store_url, upgrade=True) as store:
        r = store.reports
        r.claim(CLAIM, T0)
        assert r.begin("k1", T0, LEASE) is not None
        assert r.committing("k1", 1, T0, LEASE)
        assert r.begin("k1", T0 + timedelta(seconds=30), LEASE) is None  # still its own
        assert r.send("k1").state is SendState.COMMITTING  # type: ignore[union-attr]
        assert r.begin("k1", T0 + LEASE, LEASE) is None
        record = r.send("k1")
        assert record is not None and record.state is SendState.UNCERTAIN
        assert "<report-2026-W49-organisation-k1@example.com>" in (record.last_error or "")
        assert r.begin("k1", T0 + timedelta(days=1), LEASE) is None


def test_failures_wait_for_their_next_attempt_and_can_be_abandoned(store_url: str) -> None:  # noqa: F811
    with Store(store_url, upgrade=True) as store:
        r = store.reports
        r.claim(CLAIM, T0)
        assert r.begin("k1", T0, LEASE) is not None
        r.failed("k1", 1, T0, "connection refused", T0 + timedelta(minutes=1))
        failed = r.send("k1")
        assert failed is not None and failed.state is SendState.FAILED
        assert failed.last_error == "connection refused" and failed.lease_until is None
        assert r.begin("k1", T0 + timedelta(seconds=59), LEASE) is None
        assert r.begin("k1", T0 + timedelta(minutes=1), LEASE) is not None
        r.failed("k1", 2, T0, "timeout", T0 + timedelta(minutes=2))
        r.abandon("k1", T0 + timedelta(hours=1), "gave up")
        assert [s.state for s in r.sends("2026-W49")] == [SendState.ABANDONED]
        assert r.sends("2026-W48") == []
