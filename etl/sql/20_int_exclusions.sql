-- int_exclusions: patients kept in the staged tables but excluded from every endpoint because their
-- history contradicts itself (registry-extract.md, "What the loader does with bad input";
-- endpoints.md, "Patients excluded from every endpoint"; format 1.1: an adverse event dated after
-- the death or before the start of its line, "Toxicity endpoints"). A patient may break several
-- rules; the lowest priority number is the one analysis_patients.excluded_reason shows, so the
-- attrition view can count each patient once, in this order.
CREATE OR REPLACE TABLE int_exclusions AS
WITH t AS (SELECT * FROM int_patient_timeline),
first_before_dx AS (
    SELECT patient_id, dx_date,
           least(line_first_any, assess_first_any, rel_first_any, hct_first_any) AS first_event,
           CASE least(line_first_any, assess_first_any, rel_first_any, hct_first_any)
               WHEN rel_first_any THEN 'relapse'
               WHEN hct_first_any THEN 'transplant'
               WHEN line_first_any THEN 'treatment line start'
               ELSE 'response assessment'
           END AS first_kind
    FROM t
),
last_after_death AS (
    SELECT t.patient_id, t.d,
           greatest(line_last_any, assess_last_any, rel_last_any, hct_last_any, ae.ae_last_any) AS last_event,
           CASE greatest(line_last_any, assess_last_any, rel_last_any, hct_last_any, ae.ae_last_any)
               WHEN rel_last_any THEN 'relapse'
               WHEN hct_last_any THEN 'transplant or GVHD'
               WHEN line_last_any THEN 'treatment line start'
               WHEN assess_last_any THEN 'response assessment'
               ELSE 'toxicity'
           END AS last_kind
    FROM t LEFT JOIN int_adverse_event_dates AS ae USING (patient_id)
),
rules AS (
    SELECT patient_id, 1 AS priority, 'no diagnosis' AS reason,
           'no diagnosis row was loaded for this patient' AS detail
    FROM t WHERE NOT has_diagnosis
    UNION ALL
    SELECT patient_id, 2, 'no follow-up', 'no follow-up row was loaded for this patient'
    FROM t WHERE NOT has_followup
    UNION ALL
    SELECT patient_id, 3, 'diagnosis after data cut-off',
           'dx_date ' || dx_date || ' is after the data cut-off ' || data_cutoff
    FROM t WHERE dx_date > data_cutoff
    UNION ALL
    SELECT patient_id, 4, 'dead without death date', 'vital_status is DEAD but death_date is empty'
    FROM t WHERE vital_status = 'DEAD' AND death_date IS NULL
    UNION ALL
    SELECT patient_id, 5, 'death before diagnosis',
           'death_date ' || death_date || ' is before dx_date ' || dx_date
    FROM t WHERE death_date < dx_date
    UNION ALL
    SELECT patient_id, 6, 'event before diagnosis',
           'a ' || first_kind || ' dated ' || first_event || ' is before dx_date ' || dx_date
    FROM first_before_dx WHERE first_event < dx_date
    UNION ALL
    SELECT patient_id, 7, 'last contact before diagnosis',
           'last_contact_date ' || last_contact_date || ' is before dx_date ' || dx_date
    FROM t WHERE last_contact_date < dx_date
    UNION ALL
    SELECT patient_id, 8, 'event after death',
           'a ' || last_kind || ' dated ' || last_event || ' is after the death on ' || d
    FROM last_after_death WHERE last_event > d
    UNION ALL
    SELECT patient_id, 9, 'toxicity before its line start', before_line_detail
    FROM int_adverse_event_dates WHERE before_line_detail IS NOT NULL
)
SELECT * FROM rules ORDER BY patient_id, priority;
