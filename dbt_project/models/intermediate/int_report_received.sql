{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[
            {'columns': ['sheet_version_id', 'unit_code'], 'unique': True},
            {'columns': ['period_code', 'unit_code']},
            {'columns': ['received_at']},
        ],
        pre_hook="{{ history_touch('partition', as_of_dependent=false) }}",
        post_hook="{{ history_record(as_of_dependent=false) }}",
    )
}}
-- depends_on: {{ ref('int_report_latest_runs') }}

-- When each report (one unit's part of one spreadsheet version) was received: the one
-- definition of the received-time rule, with its evidence. int_report_versions (and through it
-- fct_submission's on-time rule) reads received_at from here. Why each step:
-- docs/reliability.md#received-time-what-google-can-prove.
--
-- 1. read_bound, per spreadsheet version: a moment the content read existed at, never
--    before the last edit it holds. Drive's modifiedTime is file-level and a read's content
--    is not timestamped by Google, so: the listed modifiedTime when Drive gave the same time
--    right after the read (nothing changed between listing and read: the file read is the file
--    as of that time); otherwise the earlier of the read's answer (Date header) and the
--    modifiedTime after it — both at or after any edit the read could hold. Versions landed
--    before that evidence was kept: the listed modifiedTime, else the fetch time (as before).
-- 2. per_unit (the whole file is the unit's): received_at = read_bound.
-- 3. per_period (one file, a tab per unit: modifiedTime moves when another unit edits):
--    a version whose part (the unit's tab) is the same as in the unit's previous version keeps
--    the received_at of the version where that part last changed; otherwise the newest Drive
--    revision by one of the unit's editors at or before read_bound and after the unit's
--    previous read; when none can be attributed, read_bound (never before the unit's last
--    edit). Google may merge revisions: a merged revision's time is its last edit's, so it
--    can only make a unit later, never earlier.
--
-- Incremental (macros/history.sql): a unit's versions of a period are read in order (the
-- previous version's part and read), so a build computes again every version of the (period,
-- unit) pairs with a report it has not taken in, and only those.

with

headers as (

    {% if is_incremental() -%}
        {{ history_touched_rows(ref('stg_parsed__report_headers')) }}
    {%- else -%}
        select * from {{ ref('stg_parsed__report_headers') }}
    {%- endif %}

),

sheet_versions as (

    select * from {{ ref('stg_raw__sheet_versions') }}

),

registry as (

    select * from {{ ref('stg_ops__sheet_registry') }}

),

-- who edits for a unit: the catalogue's contact address of the unit (the account its
-- sheet is shared with)
unit_editors as (

    select distinct
        unit_code,
        lower(trim(contact_email)) as editor_email

    from {{ ref('stg_catalogue__units') }}
    where nullif(trim(contact_email), '') is not null

),

reads as (

    select
        headers.sheet_version_id,
        headers.unit_code,
        headers.period_code,
        headers.part_sha256,
        coalesce(
            registry.layout,
            case when headers.registry_tab_title <> '' then 'per_period' else 'per_unit' end
        ) as layout,
        sheet_versions.drive_modified_time as listed_modified_time,
        sheet_versions.read_at,
        sheet_versions.modified_after,
        sheet_versions.fetched_at,
        sheet_versions.revisions,
        sheet_versions.read_at is null and sheet_versions.modified_after is null as is_legacy,
        case
            when sheet_versions.read_at is null and sheet_versions.modified_after is null
                then coalesce(sheet_versions.drive_modified_time, sheet_versions.fetched_at)
            when sheet_versions.modified_after = sheet_versions.drive_modified_time
                then sheet_versions.drive_modified_time
            -- least() skips a null: a call that failed leaves the other bound
            else least(sheet_versions.read_at, sheet_versions.modified_after)
        end as read_bound

    from headers
    inner join sheet_versions
        on sheet_versions.sheet_version_id = headers.sheet_version_id
    left join registry
        on registry.period_code = headers.period_code
        and registry.unit_code = headers.unit_code

),

ordered as (

    select
        *,
        lag(part_sha256) over unit_period as previous_part_sha256,
        -- what the unit's previous version read was: its content is of at most this moment
        lag(coalesce(read_at, read_bound)) over unit_period as previous_read_at

    from reads
    window unit_period as (partition by unit_code, period_code order by sheet_version_id)

),

unit_revisions as (

    select
        ordered.sheet_version_id,
        ordered.unit_code,
        max(revision.modified_time) as unit_revision_time

    from ordered
    cross join
        lateral (
            select
                (item ->> 'modifiedTime')::timestamptz as modified_time,
                lower(item -> 'lastModifyingUser' ->> 'emailAddress') as editor_email
            from jsonb_array_elements(ordered.revisions) as item
        ) as revision
    inner join unit_editors
        on unit_editors.unit_code = ordered.unit_code
        and unit_editors.editor_email = revision.editor_email
    where ordered.layout = 'per_period'
        and jsonb_typeof(ordered.revisions) = 'array'
        and revision.modified_time <= ordered.read_bound
        and (ordered.previous_read_at is null or revision.modified_time > ordered.previous_read_at)
    group by ordered.sheet_version_id, ordered.unit_code

),

judged as (

    select
        ordered.*,
        unit_revisions.unit_revision_time,
        case
            when ordered.layout = 'per_period'
                and ordered.part_sha256 = ordered.previous_part_sha256 then 'unchanged_part'
            when ordered.is_legacy then 'legacy'
            when ordered.layout = 'per_period'
                and unit_revisions.unit_revision_time is not null then 'unit_revision'
            when ordered.modified_after = ordered.listed_modified_time then 'listing'
            else 'read_bound'
        end as received_basis,
        coalesce(
            case when ordered.layout = 'per_period' then unit_revisions.unit_revision_time end,
            ordered.read_bound
        ) as own_received_at

    from ordered
    left join unit_revisions
        on unit_revisions.sheet_version_id = ordered.sheet_version_id
        and unit_revisions.unit_code = ordered.unit_code

),

-- a run of versions with the same part: the first one of the run is when it was received
part_runs as (

    select
        *,
        count(*) filter (where received_basis <> 'unchanged_part') over (
            partition by unit_code, period_code order by sheet_version_id
            rows between unbounded preceding and current row
        ) as part_run

    from judged

),

final as (

    select
        sheet_version_id,
        unit_code,
        period_code,
        layout,
        part_sha256,
        listed_modified_time,
        read_at,
        modified_after,
        fetched_at,
        read_bound,
        unit_revision_time,
        received_basis,
        first_value(own_received_at) over (
            partition by unit_code, period_code, part_run order by sheet_version_id
        ) as received_at

    from part_runs

)

select * from final
