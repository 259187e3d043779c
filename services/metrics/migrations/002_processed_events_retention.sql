-- Processed marks are purged by age once Kafka can no longer redeliver their events.
CREATE INDEX processed_events_event_time ON processed_events (event_time);
