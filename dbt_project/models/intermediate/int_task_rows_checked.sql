{{
    config(
        materialized='incremental',
        post_hook='analyze {{ this }}',
        unique_key=['sheet_version_id', 'unit_code', 'row_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['sheet_version_id', 'unit_code']}],
    )
}}

-- Every task row of every version of every report, with the current verdict on the row.
-- Incremental (see macros/valid_rows.sql): only reports whose latest validation run is new.

{{ checked_rows('stg_parsed__task_rows', 'tasks', [
    'task_code', 'status_text', 'status_code', 'result_text', 'completed_on', 'completed_on_text', 'evidence_text', 'note_text',
]) }}
