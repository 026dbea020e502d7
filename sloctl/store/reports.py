"""The weekly report in the store: measured inputs per period, scorecards per (period, scope),
and one send record per (period, recipient list).

Bodies are JSON documents written by ``sloctl.report.codec`` (the store does not interpret them).

    store.reports.save_inputs(period, start, end, measured_at, body)   # once per period
    store.reports.inputs("2026-W49")                                    # the body, or None
    store.reports.save_scorecard("2026-W49", "team/payments", built_at, body)
    store.reports.claim(SendClaim(...), now)                            # the send record

Send records (``SendState``) are the exactly-once protocol of ``sloctl.report.send``: a row is
written (``pending``) before any SMTP traffic; a sender takes it with ``begin`` (a lease, so two
processes never talk to the server for one row at once), marks ``committing`` right before the
end of the message's data (the server's point of acceptance), then ``sent``. A ``committing`` row
whose lease ran out belongs to a sender that died in the ambiguous window: it becomes
``uncertain`` and is never sent again automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, or_, select, update

from sloctl.store.database import Database
from sloctl.store.schema import report_inputs, report_scorecards, report_sends


class SendState(StrEnum):
    PENDING = "pending"  # recorded, nothing handed to a server yet
    SENDING = "sending"  # a sender talks to the server, before the end of the data
    COMMITTING = "committing"  # the end of the data is being handed over: acceptance unknown
    SENT = "sent"  # the server accepted the message (250 after the data)
    FAILED = "failed"  # the last attempt failed before the end of the data: retried
    REJECTED = "rejected"  # the server refused for good (5xx): not retried
    UNCERTAIN = "uncertain"  # died while committing: maybe delivered, never resent by itself
    ABANDONED = "abandoned"  # still failing when its grace period ended

    @property
    def final(self) -> bool:
        return self in (SendState.SENT, SendState.REJECTED, SendState.UNCERTAIN,
                        SendState.ABANDONED)


@dataclass(frozen=True)
class SendClaim:
    """What identifies one email: the period, the scope and the recipient list."""

    key: str
    period: str
    scope: str
    recipients: tuple[str, ...]
    message_id: str


@dataclass(frozen=True)
class SendRecord:
    key: str
    period: str
    scope: str
    recipients: tuple[str, ...]
    message_id: str
    state: SendState
    attempts: int
    created_at: datetime
    updated_at: datetime
    lease_until: datetime | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


def _record(row: RowMapping) -> SendRecord:
    return SendRecord(
        key=row["key"], period=row["period"], scope=row["scope"],
        recipients=tuple(row["recipients"]), message_id=row["message_id"],
        state=SendState(row["state"]), attempts=row["attempts"], created_at=row["created_at"],
        updated_at=row["updated_at"], lease_until=row["lease_until"],
        next_attempt_at=row["next_attempt_at"], sent_at=row["sent_at"],
        last_error=row["last_error"],
    )


class ReportReads:
    """Reading the report's tables (``StoreReader.reports``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def inputs(self, period: str) -> dict[str, Any] | None:
        """The stored inputs body of ``period``, or None."""
        with self._db.read() as conn:
            body: dict[str, Any] | None = conn.scalar(
                select(report_inputs.c.body).where(report_inputs.c.period == period))
        return body

    def periods(self) -> list[tuple[str, datetime, datetime, datetime]]:
        """(period, start, end, measured_at) of every measured period, newest first."""
        t = report_inputs.c
        with self._db.read() as conn:
            rows = conn.execute(select(t.period, t.start, t.end, t.measured_at)
                                .order_by(t.start.desc(), t.period))
            return [(r[0], r[1], r[2], r[3]) for r in rows]

    def scorecard(self, period: str, scope: str) -> dict[str, Any] | None:
        """The stored scorecard body of (period, scope), or None."""
        t = report_scorecards.c
        with self._db.read() as conn:
            body: dict[str, Any] | None = conn.scalar(
                select(t.body).where(t.period == period, t.scope == scope))
        return body

    def scopes(self, period: str) -> list[str]:
        """The scopes with a stored scorecard for ``period``, in name order."""
        t = report_scorecards.c
        with self._db.read() as conn:
            return list(conn.scalars(select(t.scope).where(t.period == period).order_by(t.scope)))

    def send(self, key: str) -> SendRecord | None:
        with self._db.read() as conn:
            row = conn.execute(select(report_sends).where(report_sends.c.key == key)).mappings()
            found = row.first()
        return _record(found) if found is not None else None

    def sends(self, period: str | None = None) -> list[SendRecord]:
        """Send records (of ``period``), oldest first."""
        query = select(report_sends).order_by(report_sends.c.created_at, report_sends.c.id)
        if period is not None:
            query = query.where(report_sends.c.period == period)
        with self._db.read() as conn:
            return [_record(r) for r in conn.execute(query).mappings()]


class Reports(ReportReads):
    """The report's tables, writable (``Store.reports``)."""

    def save_inputs(self, period: str, start: datetime, end: datetime, measured_at: datetime,
                    body: dict[str, Any]) -> bool:
        """Store a period's inputs unless some are stored already; True when written (the
        first measurement wins: a past period is never measured again)."""
        with self._db.write("saving report inputs in") as conn:
            if conn.scalar(select(report_inputs.c.id).where(report_inputs.c.period == period)):
                return False
            conn.execute(insert(report_inputs).values(
                period=period, start=start, end=end, measured_at=measured_at, body=body))
        return True

    def save_scorecard(self, period: str, scope: str, built_at: datetime,
                       body: dict[str, Any]) -> None:
        """Store (or replace) the scorecard of (period, scope)."""
        t = report_scorecards.c
        with self._db.write("saving a report scorecard in") as conn:
            done = conn.execute(update(report_scorecards)
                                .where(t.period == period, t.scope == scope)
                                .values(built_at=built_at, body=body))
            if not done.rowcount:
                conn.execute(insert(report_scorecards).values(
                    period=period, scope=scope, built_at=built_at, body=body))

    # -- send records: the exactly-once protocol --------------------------------------------------

    def claim(self, claim: SendClaim, now: datetime) -> SendRecord:
        """The send record of ``claim``: created ``pending`` (committed) when new."""
        with self._db.write("recording a report email in") as conn:
            existing = self._get(conn, claim.key)
            if existing is not None:
                return existing
            conn.execute(insert(report_sends).values(
                key=claim.key, period=claim.period, scope=claim.scope,
                recipients=list(claim.recipients), message_id=claim.message_id,
                state=SendState.PENDING.value, attempts=0, created_at=now, updated_at=now))
            record = self._get(conn, claim.key)
        assert record is not None
        return record

    def begin(self, key: str, now: datetime, lease: timedelta) -> SendRecord | None:
        """Take the record for one attempt (state ``sending``, attempts + 1, leased until
        ``now + lease``) when it may be sent now; None when it may not (sent, final, held by
        another sender, or not due yet). A ``sending`` row whose lease ran out died before the
        end of its data: the server dropped that message, so it is taken again. A
        ``committing`` row whose lease ran out becomes ``uncertain`` (see the module)."""
        t = report_sends.c
        with self._db.write("starting a report email in") as conn:
            record = self._get(conn, key)
            if record is None:
                return None
            expired = record.lease_until is None or record.lease_until <= now
            if record.state is SendState.COMMITTING and expired:
                conn.execute(update(report_sends).where(t.key == key).values(
                    state=SendState.UNCERTAIN.value, updated_at=now, lease_until=None,
                    last_error="the sender stopped while the server was accepting the message: "
                    "it may have been delivered, so it is not sent again; look for its "
                    f"Message-ID {record.message_id} in the mail server's log"))
                return None
            due = record.next_attempt_at is None or record.next_attempt_at <= now
            takeable = (record.state in (SendState.PENDING, SendState.FAILED) and due) or (
                record.state is SendState.SENDING and expired)
            if not takeable:
                return None
            done = conn.execute(update(report_sends).where(
                t.key == key, t.state == record.state.value, t.attempts == record.attempts,
                or_(t.lease_until.is_(None), t.lease_until <= now),
            ).values(state=SendState.SENDING.value, attempts=record.attempts + 1,
                     updated_at=now, lease_until=now + lease))
            if not done.rowcount:
                return None
            return self._get(conn, key)

    def committing(self, key: str, attempt: int, now: datetime, lease: timedelta) -> bool:
        """Mark that the end of the data goes to the server next (acceptance unknown until
        ``sent``), if attempt ``attempt`` still holds the record; False when it lost it (its
        lease ran out and another sender took it): it must then not end the data."""
        t = report_sends.c
        with self._db.write("updating a report email in") as conn:
            done = conn.execute(update(report_sends).where(
                t.key == key, t.attempts == attempt, t.state == SendState.SENDING.value,
            ).values(state=SendState.COMMITTING.value, updated_at=now, lease_until=now + lease))
            return bool(done.rowcount)

    def sent(self, key: str, attempt: int, now: datetime) -> None:
        self._set(key, attempt, now, state=SendState.SENT.value, sent_at=now, lease_until=None,
                  next_attempt_at=None, last_error=None)

    def failed(self, key: str, attempt: int, now: datetime, error: str,
               next_attempt_at: datetime | None, state: SendState = SendState.FAILED) -> None:
        """Attempt ``attempt`` failed (``state`` FAILED: retried from ``next_attempt_at``;
        REJECTED or UNCERTAIN: final)."""
        self._set(key, attempt, now, state=state.value, last_error=error, lease_until=None,
                  next_attempt_at=next_attempt_at)

    def abandon(self, key: str, now: datetime, why: str) -> None:
        """Stop retrying a record that is not sent (its grace period ended)."""
        t = report_sends.c
        with self._db.write("updating a report email in") as conn:
            conn.execute(update(report_sends).where(
                t.key == key, t.state.in_([SendState.PENDING.value, SendState.FAILED.value]),
            ).values(state=SendState.ABANDONED.value, updated_at=now, next_attempt_at=None,
                     last_error=why))

    def _set(self, key: str, attempt: int, now: datetime, **values: object) -> None:
        """Update the record if attempt ``attempt`` is still the latest one."""
        t = report_sends.c
        with self._db.write("updating a report email in") as conn:
            conn.execute(update(report_sends).where(t.key == key, t.attempts == attempt)
                         .values(updated_at=now, **values))

    @staticmethod
    def _get(conn: Connection, key: str) -> SendRecord | None:
        row = conn.execute(select(report_sends).where(report_sends.c.key == key)).mappings()
        found = row.first()
        return _record(found) if found is not None else None
