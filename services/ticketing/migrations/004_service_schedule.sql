-- A service's own breaks, holidays and issuing cut-off, on top of its branch's
-- (null: the branch's alone). Same stored form as branches.schedule, without
-- the time zone and hours.
ALTER TABLE services ADD COLUMN schedule jsonb;
