-- The task rows that count: rows of the latest usable version (submitted, not blocked) of
-- each unit's report for a period, without the rows that the current validation marks as an error.

{{ valid_rows('int_task_rows_checked') }}
