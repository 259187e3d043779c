"""Tickets in PostgreSQL, one module per concern.

- :mod:`.issue`: issuing (the rules, then the writes in one statement);
- :mod:`.cancel`: cancelling waiting tickets, with their events;
- :mod:`.rating`: the citizen's IKM answer;
- :mod:`.queries`: the joined ticket row and a waiting ticket's place in its queue;
- :mod:`.views`: the ticket as the API shows it.

Every change runs in one transaction together with its outbox event. Numbers
come from ``daily_numbers``: one row per service per branch-local business day,
incremented with an upsert whose row lock makes the numbers gapless and unique
under any concurrency (a refused ticket rolls its increment back).
"""

from services.ticketing.tickets.cancel import cancel_locked, cancel_ticket
from services.ticketing.tickets.issue import insert_ticket, issue_ticket, issue_ticket_idempotent
from services.ticketing.tickets.queries import (
    RECENT_SAMPLES,
    TICKET_SELECT,
    branch_schedule,
    fetch_ticket,
    position_of,
)
from services.ticketing.tickets.rating import submit_survey
from services.ticketing.tickets.views import get_ticket, ticket_view

# The name booking check-in (services/ticketing/bookings.py) calls it by.
_insert_ticket = insert_ticket

__all__ = [
    "RECENT_SAMPLES",
    "TICKET_SELECT",
    "branch_schedule",
    "cancel_locked",
    "cancel_ticket",
    "fetch_ticket",
    "get_ticket",
    "insert_ticket",
    "issue_ticket",
    "issue_ticket_idempotent",
    "position_of",
    "submit_survey",
    "ticket_view",
]
