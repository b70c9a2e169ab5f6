-- The indicator rows that count: rows of the latest valid version (submitted, not blocked, no
-- error: the rule in fct_submission) of each unit's report for a period, without the rows that
-- the current validation marks as an error.

{{ valid_rows('int_indicator_rows_checked') }}
