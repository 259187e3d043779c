"""The ticketing service: tickets, counters and the outbox, the hall's source of truth."""
