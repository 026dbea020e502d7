"""Exactly one email per (period, scope, recipient list): the send record around the SMTP
dialogue.

The protocol (``store.reports`` keeps the record, ``report.smtp`` talks to the server):

1. ``claim``: the record is written (``pending``, with the deterministic Message-ID and the
   ``Date``) and committed BEFORE any SMTP traffic. A record already ``sent`` (or otherwise
   final) ends here: nothing is sent again, whatever restarted or caught up.
2. ``begin``: one sender takes the record for one attempt (``sending``, attempts + 1, a lease
   of ``report.lease_seconds``); any other process finds it held and leaves it alone.
3. The dialogue runs up to the message's data, without its final ``.``.
4. ``committing`` is recorded (only while this attempt still holds the record), then the ``.``
   goes out. The server accepts a message on that ``.`` and on nothing else.
5. The server's 250 makes the record ``sent``; a 4xx ``failed`` (retried with backoff), a 5xx
   ``rejected``; no answer ``uncertain``.

What a crash leaves, and what the next run does:

- before 1, or between 1 and 2: ``pending``, sent by the next run;
- between 2 and 4 (connected, data partly or wholly sent, no ``.``): ``sending``; the server
  drops an unfinished message when the connection dies, so once the lease has run out the next
  run sends it again: still exactly one;
- between 4 and 5 (the ambiguous window: the ``.`` may or may not have reached the server,
  which may or may not have answered 250): ``committing``; once the lease has run out it becomes
  ``uncertain`` and is NOT sent again. A crash after the server's acceptance therefore never
  produces a second email; a crash in the microseconds between recording ``committing`` and
  writing the ``.`` loses that one email, visibly (state ``uncertain`` on /metrics, in the
  store and in the log, with its Message-ID to look up in the mail server's log).

So: at most one email per record, always; exactly one unless the process dies inside step 4's
window, which is reported, never silent. Resends are the same message (same Message-ID).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sloctl.report.smtp import CommitLost, SmtpError, SmtpRejected, SmtpTransport, SmtpUncertain
from sloctl.store import Store
from sloctl.store.reports import SendClaim, SendRecord, SendState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MessageFactory = Callable[[SendRecord], EmailMessage]  # the message of a record (its Date)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between failed attempts: initial, doubling, capped."""

    initial: timedelta = timedelta(minutes=1)
    maximum: timedelta = timedelta(hours=1)

    def after(self, attempts: int) -> timedelta:
        delay: timedelta = self.initial * (2 ** max(attempts - 1, 0))
        return min(delay, self.maximum)


def deliver_once(
    store: Store, claim: SendClaim, message: MessageFactory, transport: SmtpTransport,
    clock: Clock, lease: timedelta, retry: RetryPolicy, *, wait_for_lease: bool = False,
) -> SendRecord:
    """One attempt at the email of ``claim`` when it may be sent now (see the module);
    returns its record afterwards. ``wait_for_lease``: when another sender's lease holds the
    record, wait until it ends (once) instead of returning at once."""
    reports = store.reports
    record = reports.claim(claim, clock())
    if record.state.final:
        return record
    attempt = reports.begin(claim.key, clock(), lease)
    if attempt is None and wait_for_lease:
        held = reports.send(claim.key)
        if held is not None and held.lease_until is not None and not held.state.final:
            pause = (held.lease_until - clock()).total_seconds()
            if pause > 0:
                log.info("report email %s is held by another sender until %s: waiting",
                         claim.message_id, held.lease_until.isoformat())
                time.sleep(pause)
            attempt = reports.begin(claim.key, clock(), lease)
    if attempt is None:
        current = reports.send(claim.key)
        assert current is not None
        if current.state is SendState.UNCERTAIN:
            log.error("report email %s (%s %s) is uncertain: %s", current.message_id,
                      current.period, current.scope, current.last_error)
        return current
    n = attempt.attempts

    def commit() -> bool:
        return reports.committing(claim.key, n, clock(), lease)

    try:
        reply = transport.deliver(message(attempt), claim.recipients, commit)
    except CommitLost as exc:
        log.warning("report email %s: %s", claim.message_id, exc)
    except SmtpUncertain as exc:
        reports.failed(claim.key, n, clock(), str(exc), None, SendState.UNCERTAIN)
        log.error("report email %s (%s %s) is uncertain: %s", claim.message_id, claim.period,
                  claim.scope, exc)
    except SmtpRejected as exc:
        reports.failed(claim.key, n, clock(), str(exc), None, SendState.REJECTED)
        log.error("report email %s (%s %s) rejected: %s", claim.message_id, claim.period,
                  claim.scope, exc)
    except SmtpError as exc:
        now = clock()
        reports.failed(claim.key, n, now, str(exc), now + retry.after(n))
        log.warning("report email %s (%s %s), attempt %d failed, retried after %s: %s",
                    claim.message_id, claim.period, claim.scope, n, retry.after(n), exc)
    else:
        reports.sent(claim.key, n, clock())
        log.info("report email %s (%s %s) sent to %d recipient(s): %s", claim.message_id,
                 claim.period, claim.scope, len(claim.recipients), reply)
    final = reports.send(claim.key)
    assert final is not None
    return final
