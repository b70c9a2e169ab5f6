-- Indicator totals per period (period x indicator) against the plan's target.
-- A target applies only in periods of its own kind (a yearly target is judged on the annual
-- report). target_scope 'province': the total over units is compared with the target;
-- 'unit': every expected unit must meet the target on its own value.
-- Each row also carries the total of the previous period of the same kind (dim_period) and
-- the change against it. includes_estimate: the total holds the period's estimated figures
-- (ước thực hiện, estimated_from to estimated_to); the previous period's total is compared as
-- it was reported (with its own estimates, if any).

with

periods as (

    select * from {{ ref('dim_period') }}

),

indicators as (

    select * from {{ ref('stg_catalogue__indicators') }}

),

indicator_assignments as (

    select * from {{ ref('stg_catalogue__indicator_assignments') }}

),

expected as (

    select * from {{ ref('int_expected_reports') }}

),

indicator_values as (

    select * from {{ ref('fct_indicator_value') }}

),

period_indicators as (

    select
        periods.programme_code,
        periods.period_code,
        periods.period_kind,
        periods.previous_period_code,
        periods.has_estimate as includes_estimate,
        periods.estimated_from,
        periods.estimated_to,
        indicators.indicator_code,
        indicators.indicator_name,
        indicators.unit_of_measure,
        indicators.target_value,
        indicators.target_operator,
        indicators.target_period_kind,
        indicators.target_scope

    from periods
    inner join indicators
        on indicators.programme_code = periods.programme_code

),

expected_units as (

    select
        expected.period_code,
        indicator_assignments.indicator_code,
        count(*) as expected_units

    from expected
    inner join indicator_assignments
        on indicator_assignments.unit_code = expected.unit_code
        and indicator_assignments.programme_code = expected.programme_code
    group by expected.period_code, indicator_assignments.indicator_code

),

value_totals as (

    select
        indicator_values.period_code,
        indicator_values.indicator_code,
        sum(indicator_values.value_number) as total_value,
        count(distinct indicator_values.unit_code) as reporting_units,
        count(distinct indicator_values.unit_code) filter (
            where {{ meets_target(
                'indicator_values.value_number',
                'indicators.target_operator',
                'indicators.target_value') }}
        ) as units_meeting_target

    from indicator_values
    inner join indicators
        on indicators.indicator_code = indicator_values.indicator_code
    group by indicator_values.period_code, indicator_values.indicator_code

),

joined as (

    select
        period_indicators.*,
        value_totals.total_value,
        coalesce(value_totals.reporting_units, 0) as reporting_units,
        coalesce(expected_units.expected_units, 0) as expected_units,
        case
            when period_indicators.target_value is not null
                and period_indicators.target_scope = 'unit'
                and period_indicators.target_period_kind = period_indicators.period_kind
                then coalesce(value_totals.units_meeting_target, 0)
        end as units_meeting_target

    from period_indicators
    left join value_totals
        on value_totals.period_code = period_indicators.period_code
        and value_totals.indicator_code = period_indicators.indicator_code
    left join expected_units
        on expected_units.period_code = period_indicators.period_code
        and expected_units.indicator_code = period_indicators.indicator_code

),

achievement as (

    select
        *,
        case
            when target_value is null then 'khong_co_muc_tieu'
            -- in parentheses for sqlfluff, whose PostgreSQL parser fails on a bare `is distinct
            -- from` in a case
            when (target_period_kind is distinct from period_kind) then 'khong_ap_dung'
            when reporting_units = 0 then 'chua_co_so_lieu'
            when target_scope = 'province'
                then
                    case
                        when {{ meets_target('total_value', 'target_operator', 'target_value') }}
                            then 'dat'
                        else 'chua_dat'
                    end
            when target_scope = 'unit'
                then
                    case
                        when units_meeting_target >= expected_units then 'dat'
                        else 'chua_dat'
                    end
        end as achievement_status

    from joined

),

with_previous as (

    select
        achievement.*,
        case
            when achievement.achievement_status not in ('dat', 'chua_dat') then null
            when achievement.target_scope = 'province'
                then {{ safe_rate('achievement.total_value', 'achievement.target_value') }}
            when achievement.target_scope = 'unit'
                then {{ safe_rate(
                    'achievement.units_meeting_target', 'achievement.expected_units'
                ) }}
        end as achievement_rate,
        previous_totals.total_value as previous_total_value

    from achievement
    left join value_totals as previous_totals
        on previous_totals.period_code = achievement.previous_period_code
        and previous_totals.indicator_code = achievement.indicator_code

),

final as (

    select
        programme_code,
        period_code,
        period_kind,
        indicator_code,
        indicator_name,
        unit_of_measure,
        total_value,
        includes_estimate,
        estimated_from,
        estimated_to,
        reporting_units,
        expected_units,
        target_value,
        target_operator,
        target_period_kind,
        target_scope,
        units_meeting_target,
        achievement_status,
        {{ achievement_label_vi('achievement_status') }} as achievement_vi,
        achievement_rate,
        previous_period_code,
        previous_total_value,
        total_value - previous_total_value as change_value,
        {{ safe_rate('total_value - previous_total_value', 'previous_total_value') }} as change_rate

    from with_previous

)

select * from final
