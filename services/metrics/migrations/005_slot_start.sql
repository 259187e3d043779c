-- A checked-in booking's slot start (appointment.checked_in), so that the
-- first call of its ticket measures punctuality against the slot.
ALTER TABLE tickets ADD COLUMN slot_start timestamptz;
