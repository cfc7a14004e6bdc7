-- int_adverse_event_dates: per patient with adverse events (format 1.1), the dates the consistency
-- rules of 20_int_exclusions.sql need: the latest onset (an event after death) and the first onset
-- before the start of the line the event is attributed to (endpoints.md, "Toxicity endpoints": such a
-- row is the same contradiction as any other event outside [DX, D]). Every staged event has its line
-- (an event without one is quarantined as an orphan). A temporary table of the load; an extract
-- without adverse_events gives an empty one.
CREATE OR REPLACE TEMP TABLE int_adverse_event_dates AS
WITH before_line AS (
    SELECT a.patient_id,
           arg_min('a ' || a.event || ' attributed to line ' || a.line_no || ' dated ' || a.onset_date
                   || ' is before that line''s start on ' || l.start_date, a.onset_date) AS before_line_detail
    FROM stg_adverse_events AS a JOIN stg_treatment_lines AS l USING (patient_id, line_no)
    WHERE a.onset_date < l.start_date
    GROUP BY a.patient_id
)
SELECT a.patient_id, max(a.onset_date) AS ae_last_any, any_value(b.before_line_detail) AS before_line_detail
FROM stg_adverse_events AS a LEFT JOIN before_line AS b USING (patient_id)
GROUP BY a.patient_id;
