-- The optional respondent profile and the suggestion (saran) of a survey answer
-- (PermenPAN-RB 14/2017), exported with the daily report.
ALTER TABLE survey_responses
    ADD COLUMN sex        text,
    ADD COLUMN age_group  text,
    ADD COLUMN education  text,
    ADD COLUMN occupation text,
    ADD COLUMN saran      text;
