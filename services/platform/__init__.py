"""Infrastructure every Antrian service shares, and nothing of any service's domain.

    settings.py   the settings base (pydantic-settings): blank = default, errors name the variable
    logs.py       one JSON (or text) log format, context fields bound per request or event
    outage.py     one log line per change of a dependency's state, and a periodic summary
    problems.py   RFC 9457 problem documents; every 503 carries Retry-After
    http.py       the error middleware (database faults are 503), request timing, security headers
    health.py     /healthz and /readyz from named checks
    migrate.py    the SQL migration runner, safe for replicas starting together
    backoff.py    jittered exponential back-off
    dlq.py        the dead-letter writer: one reason vocabulary, header set and metric

Services import from here; no service imports another.
"""
