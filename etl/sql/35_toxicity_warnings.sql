-- Warnings on adverse events (format 1.1) that need another table to see: the row is kept, and what
-- the endpoints make of it is recorded in data_quality_issues (endpoints.md, "Toxicity endpoints").
-- An event after the end of follow-up L of a living patient: L is built from line starts,
-- assessments, relapses and transplants (endpoints.md, "Notation"), so the event is censored at L.
INSERT INTO data_quality_issues
SELECT 'adverse_events', a.source_file, a.source_line, a.patient_id, 'onset_date', CAST(a.onset_date AS VARCHAR),
       'onset_date ' || a.onset_date || ' is after the end of follow-up on ' || t.followup_end
           || ' (the last contact or the last line, assessment, relapse or transplant); '
           || 'the toxicity endpoints are censored there'
FROM stg_adverse_events AS a JOIN int_patient_timeline AS t USING (patient_id)
WHERE t.d IS NULL AND a.onset_date > t.followup_end AND a.onset_date <= t.data_cutoff
  AND NOT EXISTS (SELECT 1 FROM int_exclusions AS x WHERE x.patient_id = a.patient_id)
ORDER BY a.source_line;

INSERT INTO data_quality_issues
SELECT 'adverse_events', source_file, source_line, patient_id, 'resolution_date', CAST(resolution_date AS VARCHAR),
       'resolution_date ' || resolution_date || ' is before onset_date ' || onset_date
           || '; kept as given (no endpoint uses it)'
FROM stg_adverse_events
WHERE resolution_date < onset_date
ORDER BY source_line;

-- A fatal (grade 5) event of a patient whom the follow-up records as alive.
INSERT INTO data_quality_issues
SELECT 'adverse_events', a.source_file, a.source_line, a.patient_id, 'grade', CAST(a.grade AS VARCHAR),
       'grade 5 (fatal) ' || a.event || ' on ' || a.onset_date || ', but the follow-up records the patient ALIVE; '
           || 'the event counts as grade 5, and survival follows the follow-up record'
FROM stg_adverse_events AS a JOIN stg_followup AS f USING (patient_id)
WHERE a.grade = '5' AND f.vital_status = 'ALIVE'
ORDER BY a.source_line;
