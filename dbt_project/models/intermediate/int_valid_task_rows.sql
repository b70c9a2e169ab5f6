-- The task rows that count: rows of the latest usable version (submitted, not blocked) of each
-- unit's report for a period, without the rows that the current validation marks as an error.

{{ valid_rows('stg_parsed__task_rows', 'tasks', [
    'task_code', 'status_text', 'status_code', 'result_text', 'completed_on',
    'completed_on_text', 'evidence_text', 'note_text',
]) }}
