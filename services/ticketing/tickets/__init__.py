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

from services.ticketing.tickets.cancel import cancel_locked as cancel_locked
from services.ticketing.tickets.cancel import cancel_ticket as cancel_ticket
from services.ticketing.tickets.issue import insert_ticket as insert_ticket
from services.ticketing.tickets.issue import issue_ticket as issue_ticket
from services.ticketing.tickets.issue import issue_ticket_idempotent as issue_ticket_idempotent
from services.ticketing.tickets.queries import RECENT_SAMPLES as RECENT_SAMPLES
from services.ticketing.tickets.queries import TICKET_SELECT as TICKET_SELECT
from services.ticketing.tickets.queries import branch_schedule as branch_schedule
from services.ticketing.tickets.queries import fetch_ticket as fetch_ticket
from services.ticketing.tickets.queries import position_of as position_of
from services.ticketing.tickets.rating import submit_survey as submit_survey
from services.ticketing.tickets.views import get_ticket as get_ticket
from services.ticketing.tickets.views import ticket_view as ticket_view

# The name booking check-in (services/ticketing/bookings.py) calls it by.
_insert_ticket = insert_ticket
