-- The feedback rows that count: rows of the latest usable version (submitted, not blocked) of
-- each unit's report for a period, without the rows that the current validation marks as an error.

{{ valid_rows('stg_parsed__feedback_rows', 'feedback', [
    'feedback_kind', 'feedback_kind_text', 'content_text',
]) }}
