"""The ticketing service: tickets, counters and the outbox, the hall's source of truth.

Layout (pure core, thin edges)::

    domain/         pure rules, no I/O: numbering, schedule (hours, breaks, holidays,
                    cut-off), lifecycle (ticket and counter state machines), calling
                    (the call-next choice), estimate, hall (hall-file validation), qr,
                    dayclose (which tickets a finished business day leaves over)
    errors.py       the exception tree, mapped to problem details at the edge
    eventdata.py    the ``data`` of every event (docs/events.md), pure
    tickets.py      issuing, reading, cancelling, the survey        (asyncpg)
    counters.py     call-next, recall/start/complete/no-show/transfer, open/pause/close
    directory.py    branches, their counters and queues
    sessions.py     log-in, bearer tokens, the first admin; auth.py hashes (argon2id)
    seed.py         hall files → database, idempotently
    outbox.py       transactional outbox and its relay to Kafka; migrate.py, migrations/
    housekeeping.py the loop that closes past business days and purges idempotency keys
    api.py          the /api/v1 handlers and the route table /openapi.json is generated from
    schemas.py      the pydantic models of every request and response body
    problems.py     RFC 9457 problem details and request timing middleware
    pages.py        kiosk, counter client and citizen pages (pages/)
    app.py          init_app(settings): pool, relay, housekeeping in cleanup_ctx; routes
    settings.py     the environment, read once; __main__.py serve / migrate / seed
"""
