-- Processed marks are copied in (COPY has no expressions): PostgreSQL's clock at
-- marking, the moment a batch's effects are written, becomes the column's default.
ALTER TABLE processed_events ALTER COLUMN processed_at SET DEFAULT clock_timestamp();
