{#-
    History that grows for years at flat cost: the incremental models over what raw, parsed
    and quality hold (docs/architecture.md#history-that-grows-for-years).

    raw, parsed and quality only grow. Every report (one unit's part of one spreadsheet version)
    is checked by a validation run of its period, and validation takes one run of a period at a
    time, from taking its run id to its commit (expectations/landed.py holds the period's lock):
    within a period, a run committed later always has a greater id. So each incremental model
    records, per period, the newest run it has taken in (and the as_of_date its rows were judged
    for) in the state table below, and a build takes in only

    (a) the reports whose latest validation run is newer than that — a new version, or an old one
        checked again by a later run —, and
    (b) when the as_of_date moved, the reports received between the old day and the new one
        (in either direction: a build as of an earlier day takes them out again),
    (c) for a model whose rows depend on which version counts (reviewed=true), when the period
        requires review (issue 24): the reports a reviewer decided on since — decisions read
        after the newest reading the model has taken in, and, when the as_of_date moved,
        decisions made between the old day and the new one (a decision holds from its day) —,

    then rebuilds the rows of the (period, unit) pairs those reports belong to — a unit's
    versions of a period are numbered and flagged together (the latest, the one that counts) —
    or of those reports only, for models whose rows depend on nothing but their report. The
    rows are deleted and inserted again, and the state written, in the model's own transaction:
    a build that fails leaves the model and its state as they were, and the next build takes in
    whatever this one did not. `dbt build --full-refresh` builds every model from everything and
    gives the same rows (tests/test_history_incremental.py); the pipeline runs it when what the
    rows are computed with changes (pipeline/dbt.py, history_definitions).

    A model uses three pieces:
        pre_hook=history_touch(grain, as_of_dependent, reviewed)  — what to rebuild, into a
            temporary table, and its old rows deleted (grain: 'report' or 'partition');
        its SQL, when is_incremental(), starts from history_touched_rows(): the rows of what
            to rebuild, found through indexes, and reads the rest through indexes too;
        post_hook=history_record(as_of_dependent, reviewed=reviewed) — the state, in the same
            transaction.
-#}


{#- The state of the incremental models: per model and period, the newest validation run taken
    in, the day its rows were judged for, the newest review reading taken in (reviewed models;
    the column added to a state made before review), and when and by which dbt invocation rows of the
    period were last written (touched_at, touched_by: what the data tests of a build check, the
    var history_scope of dbt_project.yml). dbt's own table (on-run-start creates it), written
    only by the models' post-hooks. -#}
{% macro history_state_relation() -%}
    intermediate.dbt_incremental_state
{%- endmacro %}


{% macro history_create_state() -%}
    create table if not exists {{ history_state_relation() }} (
        model_name text not null,
        period_code text not null,
        last_validation_run_id bigint not null,
        as_of_date date,
        touched_at timestamptz,
        touched_by text,
        last_review_reading_id bigint,
        primary key (model_name, period_code)
    );
    alter table {{ history_state_relation() }}
        add column if not exists last_review_reading_id bigint
{%- endmacro %}


{#- One of the two models every model using these hooks reads what to rebuild from
    (int_report_latest_runs, int_report_received), by name: a ref() in a hook is not a
    dependency dbt knows of. Every such model descends from both, so both are built before it in
    a build (int_report_received names its one with a depends_on comment). A reviewed model
    also reads int_review_decisions, from which it descends (through int_report_versions). -#}
{% macro history_input(name) -%}
    intermediate.{{ name }}
{%- endmacro %}


{#- The model's name in the state table. -#}
{% macro history_model_key() -%}
    '{{ this.schema }}.{{ this.identifier }}'
{%- endmacro %}


{#- The temporary table holding what this build rebuilds of the model (on commit drop). -#}
{% macro history_touched() -%}
    {{ this.identifier }}__touched
{%- endmacro %}


{#- The distinct period codes of a relation with an index on period_code, one index probe per
    period (PostgreSQL has no skip scan): a loose index scan, not a pass over history. -#}
{% macro distinct_periods(relation) -%}
    with recursive periods (period_code) as (
        select min(period_code) from {{ relation }}
        union all
        select (
            select min(later.period_code) from {{ relation }} as later
            where later.period_code > periods.period_code
        )
        from periods
        where periods.period_code is not null
    )

    select period_code from periods where period_code is not null
{%- endmacro %}


{#- (a) The reports whose latest validation run this model has not taken in: per period, the
    reports of int_report_latest_runs with a newer run than the state's (all of them when the
    model has no state), read through its index (period_code, validation_run_id). -#}
{% macro history_new_reports() -%}
    select new_reports.sheet_version_id, new_reports.unit_code, new_reports.period_code
    from ({{ distinct_periods(history_input('int_report_latest_runs')) }}) as periods
    left join {{ history_state_relation() }} as state
        on state.model_name = {{ history_model_key() }}
        and state.period_code = periods.period_code
    cross join lateral (
        select latest_runs.sheet_version_id, latest_runs.unit_code, latest_runs.period_code
        from {{ history_input('int_report_latest_runs') }} as latest_runs
        where latest_runs.period_code = periods.period_code
            and latest_runs.validation_run_id > coalesce(state.last_validation_run_id, 0)
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as new_reports
{%- endmacro %}


{#- (b) The reports received between the day this model was last judged for and the build's
    as_of_date (either way round), read through int_report_received's index on received_at;
    none when the day is the same or the model has no state (then (a) takes in everything). -#}
{% macro history_moved_reports() -%}
    {%- set tz = var("report_timezone", "Asia/Ho_Chi_Minh") -%}
    select received.sheet_version_id, received.unit_code, received.period_code
    from (
        select max(as_of_date) as previous_day, {{ as_of_date() }} as this_day
        from {{ history_state_relation() }}
        where model_name = {{ history_model_key() }}
    ) as days
    inner join {{ history_input('int_report_received') }} as received
        on received.received_at
        >= ((least(days.previous_day, days.this_day) + 1)::timestamp at time zone '{{ tz }}')
        and received.received_at
        < ((greatest(days.previous_day, days.this_day) + 1)::timestamp at time zone '{{ tz }}')
    where days.previous_day <> days.this_day
{%- endmacro %}


{#- (c) The reports a reviewer decided on that this reviewed model has not taken in: per period
    (a loose index scan of int_review_decisions), the decisions that apply from readings newer
    than the newest the state records (all of them when it records none), and, when the
    as_of_date moved, those made between the old day and the new one (either way round), read
    through the index on decided_at. A decision changes which version of the pair counts. -#}
{% macro history_reviewed_reports() -%}
    {%- set tz = var("report_timezone", "Asia/Ho_Chi_Minh") -%}
    select decisions.sheet_version_id, decisions.unit_code, decisions.period_code
    from ({{ distinct_periods(history_input('int_review_decisions')) }}) as periods
    left join {{ history_state_relation() }} as state
        on state.model_name = {{ history_model_key() }}
        and state.period_code = periods.period_code
    cross join lateral (
        select decisions.sheet_version_id, decisions.unit_code, decisions.period_code
        from {{ history_input('int_review_decisions') }} as decisions
        where decisions.period_code = periods.period_code
            and decisions.review_reading_id > coalesce(state.last_review_reading_id, 0)
            and decisions.is_applicable
        -- one probe per row (macros/history.sql, history_touched_rows)
        offset 0  -- noqa: AM09
    ) as decisions
    union all
    select decisions.sheet_version_id, decisions.unit_code, decisions.period_code
    from (
        select max(as_of_date) as previous_day, {{ as_of_date() }} as this_day
        from {{ history_state_relation() }}
        where model_name = {{ history_model_key() }}
    ) as days
    inner join {{ history_input('int_review_decisions') }} as decisions
        on decisions.decided_at
        >= ((least(days.previous_day, days.this_day) + 1)::timestamp at time zone '{{ tz }}')
        and decisions.decided_at
        < ((greatest(days.previous_day, days.this_day) + 1)::timestamp at time zone '{{ tz }}')
    where decisions.is_applicable and days.this_day <> days.previous_day
{%- endmacro %}


{#- pre_hook of int_report_latest_runs: the validation runs to read into the temporary table
    history_touched() (validation_run_id, period_code) — per period, the runs newer than the
    newest the model has taken in (runs recorded before validation named their period are
    older than any that does) —; nothing on a full build. -#}
{% macro history_touch_runs() -%}
    {%- if is_incremental() -%}
        create temporary table {{ history_touched() }} on commit drop as
        select runs.validation_run_id, runs.period_code
        from quality.validation_runs as runs
        left join {{ history_state_relation() }} as state
            on state.model_name = {{ history_model_key() }}
            and state.period_code = runs.period_code
        where runs.validation_run_id > coalesce(
            state.last_validation_run_id,
            case
                when runs.period_code is null then (
                    select max(all_state.last_validation_run_id)
                    from {{ history_state_relation() }} as all_state
                    where all_state.model_name = {{ history_model_key() }}
                )
            end,
            0
        );
        analyze {{ history_touched() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- pre_hook: what this build rebuilds into the temporary table history_touched() — reports
    (sheet_version_id, unit_code, and their period_code) or (period_code, unit_code) pairs —,
    then the model's rows of it deleted; nothing on a full build (no such table then). Both in
    the model's transaction. -#}
{% macro history_touch(grain='partition', as_of_dependent=true, reviewed=false) -%}
    {%- if is_incremental() -%}
        {%- set keys = ['sheet_version_id', 'unit_code'] if grain == 'report' else ['period_code', 'unit_code'] -%}
        create temporary table {{ history_touched() }} on commit drop as
        select distinct {{ keys | join(', ') }}{{ ', period_code' if grain == 'report' }}
        from (
            {{ history_new_reports() }}
            {%- if as_of_dependent %}
            union all
            {{ history_moved_reports() }}
            {%- endif %}
            {%- if reviewed %}
            union all
            {{ history_reviewed_reports() }}
            {%- endif %}
        ) as touched;
        analyze {{ history_touched() }};
        delete from {{ this }} as model_rows
        using {{ history_touched() }} as touched
        where {% for column in keys -%}
            model_rows.{{ column }} = touched.{{ column }}{% if not loop.last %} and {% endif %}
        {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- In a model's SQL, when is_incremental(): the rows of ``relation`` in what this build
    rebuilds, found through the relation's index on the touched table's columns — a lateral
    join, that is a nested loop from the (small, analyzed) table of what was touched with one
    index probe each. Left to itself the planner reads the whole history instead: it takes a
    join on two correlated columns (a report's version and unit, a pair's period and unit) to
    match about one row, and picks plans that grow with the history, or with its square.
    `offset 0` keeps PostgreSQL from pulling such a subquery up into a join it may reorder: the
    models over history read each big table this way, one probe per row of what they write.
    condition: what else a row must be (e.g. 'touched_rows.is_latest'). -#}
{% macro history_touched_rows(relation, grain='partition', condition='true') -%}
    {%- set columns = ['sheet_version_id', 'unit_code'] if grain == 'report' else ['period_code', 'unit_code'] -%}
    select touched_rows.*
    from {{ history_touched() }} as touched
    cross join lateral (
        select touched_rows.* from {{ relation }} as touched_rows
        where {% for column in columns -%}
            touched_rows.{{ column }} = touched.{{ column }} and {% endfor -%}
            {{ condition }}
        offset 0  -- noqa: AM09
    ) as touched_rows
{%- endmacro %}


{#- post_hook: the model's state, in its transaction — per period the newest validation run of
    int_report_latest_runs (as this build read it: it is built before every model that uses
    these hooks), the day its rows were judged for, for a reviewed model the newest reading of
    int_review_decisions (as this build read it), and for the periods it wrote rows of (all
    of them when built in full: no table of what was touched) this invocation. Then fresh
    statistics for the planner when the model was built in full or changed by more than
    autovacuum's threshold (a tenth); a day's build changes a small part of the table. -#}
{% macro history_record(as_of_dependent=true, latest_runs=none, reviewed=false) -%}
    {%- set latest_runs = latest_runs or history_input('int_report_latest_runs') -%}
    {%- set touched = 'pg_temp.' ~ history_touched() -%}
    create temporary table {{ this.identifier }}__state on commit drop as
    select * from {{ history_state_relation() }} where model_name = {{ history_model_key() }};
    delete from {{ history_state_relation() }} where model_name = {{ history_model_key() }};
    insert into {{ history_state_relation() }} (
        model_name, period_code, last_validation_run_id, as_of_date, touched_at, touched_by,
        last_review_reading_id
    )
    select
        {{ history_model_key() }},
        periods.period_code,
        (
            select max(latest_runs.validation_run_id) from {{ latest_runs }} as latest_runs
            where latest_runs.period_code = periods.period_code
        ),
        {{ as_of_date() if as_of_dependent else 'null::date' }},
        case when to_regclass('{{ touched }}') is null then now() else previous.touched_at end,
        case
            when to_regclass('{{ touched }}') is null then '{{ invocation_id }}'
            else previous.touched_by
        end,
        {% if reviewed -%}
            (
                select max(decisions.review_reading_id)
                from {{ history_input('int_review_decisions') }} as decisions
                where decisions.period_code = periods.period_code
            )
        {%- else -%}
            null::bigint
        {%- endif %}
    from ({{ distinct_periods(latest_runs) }}) as periods
    left join {{ this.identifier }}__state as previous
        on previous.period_code = periods.period_code;
    do $$
    begin
        if to_regclass('{{ touched }}') is not null then
            execute 'update {{ history_state_relation() }} '
                'set touched_at = now(), touched_by = ''{{ invocation_id }}'' '
                'where model_name = ' || quote_literal({{ history_model_key() }})
                || ' and period_code in (select period_code from {{ touched }})';
        end if;
    end $$;
    do $$
    declare
        model regclass := '{{ this }}'::regclass;
    begin
        if to_regclass('{{ touched }}') is null
            -- as autovacuum would, but now, for the models built next in this build: a season
            -- taken in at once changes the table's statistics
            or pg_stat_get_xact_tuples_inserted(model) + pg_stat_get_xact_tuples_deleted(model)
                + coalesce(pg_stat_get_mod_since_analyze(model), 0)
                > 50 + 0.1 * greatest((select reltuples from pg_class where oid = model), 0)
        then
            execute format('analyze %s', model);
        end if;
    end $$
{%- endmacro %}


{#- The data tests' scope on the history: a condition on period_code, for a test's `where` (the
    placeholder __history_scope__, replaced by get_where_subquery below) or a singular test's SQL
    ({{ history_scope() }}). The periods the latest build that wrote history wrote rows of (every
    period after a full build), from the incremental models' state, looked up when the test runs
    and written into its SQL as literals: with a subquery instead, the planner cannot know it
    picks one period out of many, and read every period of the table (the history bench's day
    build at three years: 1.25 GB read by the two singular tests over the rows checked and the
    facts, 0.3 GB with literals). The var history_scope,
    when set, is the condition instead: --vars '{history_scope: "true"}' tests the whole history.
    Before any build (no state: a test or the docs site on a new warehouse) nothing is in scope;
    at parse time, everything. -#}
{% macro history_scope() -%}
    {%- set forced = var('history_scope', none) -%}
    {%- if forced is not none and forced | string | trim | lower not in ('', 'none', 'null') -%}
        ({{ forced }})
    {%- elif not execute -%}
        true
    {%- else -%}
        {#- asked of the database, not of dbt's cache of relations: on-run-start creates the
            state after dbt filled it -#}
        {%- set state = history_state_relation() -%}
        {%- set periods = [] -%}
        {%- if run_query("select to_regclass('" ~ state ~ "') is not null").columns[0][0] -%}
            {%- set found = run_query(
                "select distinct scope.period_code from " ~ state ~ " as scope"
                ~ " where scope.touched_by = (select latest.touched_by from " ~ state
                ~ " as latest where latest.touched_at is not null"
                ~ " order by latest.touched_at desc limit 1) order by 1"
            ) -%}
            {%- set periods = found.columns[0].values() -%}
        {%- endif -%}
        {%- if periods | length == 0 -%}
            false
        {%- else -%}
            period_code in (
            {%- for period in periods -%}
                '{{ period | replace("'", "''") }}'{% if not loop.last %}, {% endif %}
            {%- endfor -%}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- dbt's own (global_project/macros/materializations/tests/where_subquery.sql), with the
    placeholder __history_scope__ of a test's `where` replaced by history_scope() when the test
    runs: a `where` is rendered when the project is parsed, before any query can run. A root
    project's get_where_subquery takes the place of dbt's. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- if '__history_scope__' in where -%}
            {%- set where = where | replace('__history_scope__', history_scope()) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
