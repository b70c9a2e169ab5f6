-- Every period (catalogue and ad hoc) states its last on-time moment, and that moment is not
-- before the start of its due date (Vietnam time): a deadline earlier than the date printed on
-- the sheet would make a unit that followed the sheet late.

with

periods as (

    select * from {{ ref('int_periods') }}

)

select
    period_code,
    due_date,
    on_time_until
from periods
where on_time_until is null
    or {{ local_date('on_time_until') }} < due_date
