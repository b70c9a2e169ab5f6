-- Indicator values reported by each unit for a period (unit x indicator x period), from the valid
-- rows of the unit's latest valid version that hold a number. Only expected reports and
-- indicators of the programme's catalogue; when an indicator appears on several rows, the first
-- row counts.

with

valid_rows as (

    select * from {{ ref('int_valid_indicator_rows') }}
    where value_number is not null

),

expected as (

    select * from {{ ref('int_expected_reports') }}

),

indicators as (

    select * from {{ ref('stg_catalogue__indicators') }}

),

ranked as (

    select
        valid_rows.*,
        row_number() over (
            partition by valid_rows.period_code, valid_rows.unit_code, valid_rows.indicator_code
            order by valid_rows.row_number, valid_rows.row_key
        ) as row_rank

    from valid_rows
    inner join expected
        on expected.period_code = valid_rows.period_code
        and expected.unit_code = valid_rows.unit_code
    inner join indicators
        on indicators.indicator_code = valid_rows.indicator_code
        and indicators.programme_code = valid_rows.programme_code

),

final as (

    select
        programme_code,
        period_code,
        unit_code,
        indicator_code,
        value_number,
        value_reading,
        note_text,
        sheet_version_id,
        row_key,
        has_warning

    from ranked
    where row_rank = 1

)

select * from final
