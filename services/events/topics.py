"""Kafka topic names and headers fixed by the design."""

EVENTS_TOPIC = "queue.events"
"""Every ticket and counter event; the key is the branch id."""

DLQ_TOPIC = "queue.events.dlq"
"""Events a consumer could not process; the reason travels in a header."""

DLQ_REASON_HEADER = "dlq-reason"
"""Header on a dead-lettered record that says why it was rejected."""

DLQ_CONSUMER_HEADER = "dlq-consumer"
"""Header on a dead-lettered record naming the consumer that rejected it."""
