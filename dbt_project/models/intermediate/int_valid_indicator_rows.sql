-- The indicator rows that count: rows of the latest usable version (submitted, not blocked) of
-- each unit's report for a period, without the rows that the current validation marks as an error.

{{ valid_rows('stg_parsed__indicator_rows', 'indicators', [
    'indicator_code', 'value_text', 'value_number', 'value_reading', 'reading_note', 'note_text',
]) }}
