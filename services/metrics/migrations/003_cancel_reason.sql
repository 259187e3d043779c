-- qms_tickets_cancelled_total gains a "reason" label (citizen, day_closed, other).
-- Totals stored before this version kept no reason; they are labelled "citizen",
-- the only cause a release before the day close could emit. No stored label set
-- had a reason, so the updated keys cannot collide.
UPDATE counter_totals
   SET labels = labels || '{"reason": "citizen"}'::jsonb
 WHERE metric = 'qms_tickets_cancelled_total'
   AND NOT labels ? 'reason';
