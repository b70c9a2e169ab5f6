{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['sheet_version_id', 'unit_code', 'row_key'], 'unique': True},
            {'columns': ['period_code']},
        ],
        pre_hook="{{ history_touch('report', as_of_dependent=false) }}",
        post_hook="{{ history_record(as_of_dependent=false) }}",
    )
}}

-- Every indicator row of every version of every report, with the current verdict on the row.
-- Incremental (macros/valid_rows.sql, macros/history.sql): only reports whose latest validation
-- run the model has not taken in.

{{ checked_rows('stg_parsed__indicator_rows', 'indicators', [
    'indicator_code', 'value_text', 'value_number', 'value_reading', 'reading_note', 'note_text',
]) }}
