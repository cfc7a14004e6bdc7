-- Warnings that need more than one row to see: the patient is kept and the loader's choice is
-- recorded in data_quality_issues (registry-extract.md; endpoints.md, "Notation", L).
INSERT INTO data_quality_issues
SELECT 'followup', fu.source_file, fu.source_line, fu.patient_id, 'last_contact_date',
       CAST(fu.last_contact_date AS VARCHAR),
       'last_contact_date ' || fu.last_contact_date || ' is earlier than an event recorded on '
           || t.last_event || '; follow-up runs to ' || t.followup_end
FROM int_patient_timeline AS t JOIN stg_followup AS fu USING (patient_id)
WHERE t.d IS NULL AND t.last_event > fu.last_contact_date
  -- an excluded patient's follow-up is not used; its exclusion already says what is wrong
  AND NOT EXISTS (SELECT 1 FROM int_exclusions AS x WHERE x.patient_id = t.patient_id)
ORDER BY fu.source_line;

INSERT INTO data_quality_issues
SELECT 'followup', source_file, source_line, patient_id, 'death_date', CAST(death_date AS VARCHAR),
       'death_date is given for a patient recorded ALIVE; the death is ignored'
FROM stg_followup
WHERE vital_status = 'ALIVE' AND death_date IS NOT NULL
ORDER BY source_line;

-- A GVHD that counts for an endpoint but has no onset date cannot be timed: it is no GRFS event,
-- and the patient gets no row for the GVHD endpoints it would count for (endpoints.md, format 1.1).
INSERT INTO data_quality_issues
SELECT 'transplants', source_file, source_line, patient_id, 'agvhd_date', NULL,
       'acute GVHD grade ' || agvhd_grade || ' has no agvhd_date, so it cannot be timed: '
           || CASE WHEN agvhd_grade = 'II' THEN 'the patient has no AGVHD24 row'
                   ELSE 'it cannot count as a GRFS event, and the patient has no AGVHD24 or AGVHD34 row' END
FROM stg_transplants
WHERE agvhd_grade IN ('II', 'III', 'IV') AND agvhd_date IS NULL
ORDER BY source_line;

INSERT INTO data_quality_issues
SELECT 'transplants', source_file, source_line, patient_id, 'cgvhd_date', NULL,
       'chronic GVHD ' || cgvhd_severity || ' has no cgvhd_date, so it cannot be timed: '
           || 'it cannot count as a GRFS event, and the patient has no CGVHD row'
FROM stg_transplants
WHERE cgvhd_severity IN ('MODERATE', 'SEVERE') AND cgvhd_date IS NULL
ORDER BY source_line;

-- Every excluded patient, with the rule broken (all rules, not only the first).
INSERT INTO data_quality_issues
SELECT 'patients', p.source_file, p.source_line, x.patient_id, NULL, NULL,
       'excluded from endpoints (' || x.reason || '): ' || x.detail
FROM int_exclusions AS x JOIN stg_patients AS p USING (patient_id)
ORDER BY p.source_line, x.priority;
