"""Closing a business day: which tickets are left over once a branch's day is over.

Call-next only takes tickets of the branch's current business day, so a ticket
still ``waiting`` when its day ends would wait forever. Such a ticket is *left
over*: its status is ``waiting`` and its ``business_date`` lies before the
branch's current business date (:func:`~services.ticketing.domain.numbering.business_date`,
the calendar day in the branch's own time zone). Housekeeping cancels left-over
tickets with the reason :attr:`CancelReason.DAY_CLOSED`.

Tickets at a counter at midnight (``called`` or ``serving``) are *not* left
over: an operator is with the citizen, and finishes the ticket as usual
(complete, no-show or transfer). Should the operator transfer it after
midnight, it is waiting again for a day that is over, so the next pass closes
it like any other left-over ticket.

This module is pure: it imports no I/O library, and time is an input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.ticketing.domain.lifecycle import TicketStatus
from services.ticketing.domain.numbering import business_date


class CancelReason(enum.StrEnum):
    """Why a ticket was cancelled (``tickets.cancel_reason``, ``data.reason`` of ``ticket.cancelled``)."""

    CITIZEN = "citizen"
    """The citizen cancelled the ticket."""
    DAY_CLOSED = "day_closed"
    """The ticket was still waiting when its business day ended."""
    STAFF = "staff"
    """A supervisor cancelled the waiting ticket (their reason is in the audit trail)."""


@dataclass(frozen=True, slots=True)
class LeftOver:
    """The tickets of one branch that are left over: waiting, of a business day before ``before``."""

    before: date

    def matches(self, status: TicketStatus, day: date) -> bool:
        """True when a ticket with ``status`` of business day ``day`` is left over."""
        return status is TicketStatus.WAITING and day < self.before


def left_over(now: datetime, timezone: ZoneInfo) -> LeftOver:
    """Which tickets of a branch in ``timezone`` are left over at the aware moment ``now``."""
    return LeftOver(business_date(now, timezone))
