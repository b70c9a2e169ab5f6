-- Warehouse structure outside dbt: what the pipeline lands, and who may touch it.
-- Applied by the admin role, idempotently, on every `tonghop db start` (and by the production
-- init container). The roles loader, transformer and bi_reader exist before this runs.
--
--   raw      what was read from each spreadsheet, every version, append-only   (loader writes)
--   parsed   the rows of each version, as read by the parser                   (loader writes)
--   quality  validation runs and every problem found, per row and rule         (loader writes)
--   ops      pipeline state: which spreadsheet belongs to which unit, pulls    (loader writes)
--   catalogue, staging, intermediate, marts, snapshots                         (dbt, transformer)
--   bi_reader reads marts only, through grants that dbt applies on each build.

-- The database is whichever this runs in: one cluster can hold several provinces' warehouses.
do $$
begin
    execute format('revoke all on database %I from public', current_database());
    execute format('grant connect on database %I to loader, transformer, bi_reader',
                   current_database());
    execute format('grant create on database %I to transformer', current_database());
    -- dbt's incremental models (delete+insert) stage the new rows in a temporary table
    execute format('grant temporary on database %I to transformer', current_database());
end $$;
revoke create on schema public from public;

-- The warehouse roles reach the warehouse databases only. A new database lets PUBLIC connect
-- (and create temporary tables); on the cluster that also holds Airflow's metadata (locally)
-- and in the maintenance database, the roles have nothing to do.
do $$
declare d text;
begin
    for d in select datname from pg_database where datname in ('airflow', 'postgres') loop
        execute format('revoke connect, temporary on database %I from public', d);
    end loop;
end $$;

create schema if not exists raw;
create schema if not exists parsed;
create schema if not exists quality;
create schema if not exists ops;

-- ---------------------------------------------------------------- raw (append-only)
create table if not exists raw.sheet_versions (
    sheet_version_id    bigint generated always as identity primary key,
    spreadsheet_id      text        not null,
    spreadsheet_title   text,
    drive_modified_time timestamptz,
    fetched_at          timestamptz not null,
    content_sha256      text        not null,
    -- the Sheets API spreadsheets.get response (grid data), exactly as returned
    payload             jsonb       not null,
    pull_run_id         text        not null
);
create index if not exists sheet_versions_by_spreadsheet
    on raw.sheet_versions (spreadsheet_id, sheet_version_id desc);

create table if not exists raw.sheet_fetches (
    fetch_id            bigint generated always as identity primary key,
    pull_run_id         text        not null,
    spreadsheet_id      text        not null,
    drive_modified_time timestamptz,
    attempted_at        timestamptz not null,
    outcome             text        not null
        check (outcome in ('new_version', 'unchanged', 'failed')),
    sheet_version_id    bigint references raw.sheet_versions,
    error_message       text
);
create index if not exists sheet_fetches_by_run on raw.sheet_fetches (pull_run_id);
-- each spreadsheet's latest read (a failed one is read again at the next pull)
create index if not exists sheet_fetches_by_spreadsheet
    on raw.sheet_fetches (spreadsheet_id, fetch_id);

-- The evidence of when the content read existed (issue 18; dbt's int_report_received reads it):
-- drive_modified_time is the listing's modifiedTime; read_at the Date header of the
-- spreadsheets.get answer (Google's clock); modified_after the file's modifiedTime asked right
-- after the read (files.get); revisions, for a file shared by several units (per_period), the
-- Drive revisions listed after the read. Null on what was landed before they were kept.
alter table raw.sheet_versions add column if not exists read_at timestamptz;
alter table raw.sheet_versions add column if not exists modified_after timestamptz;
alter table raw.sheet_versions add column if not exists revisions jsonb;
alter table raw.sheet_fetches add column if not exists read_at timestamptz;
alter table raw.sheet_fetches add column if not exists modified_after timestamptz;
alter table raw.sheet_fetches add column if not exists revisions jsonb;

create or replace function raw.forbid_change() returns trigger language plpgsql as $$
begin
    raise exception 'raw.% is append-only: % is not allowed', tg_table_name, tg_op;
end $$;

do $$
declare t text;
begin
    foreach t in array array['sheet_versions', 'sheet_fetches'] loop
        if not exists (select 1 from pg_trigger where tgname = t || '_append_only') then
            execute format(
                'create trigger %I before update or delete on raw.%I '
                'for each row execute function raw.forbid_change()', t || '_append_only', t);
            execute format(
                'create trigger %I before truncate on raw.%I '
                'for each statement execute function raw.forbid_change()', t || '_no_truncate', t);
        end if;
    end loop;
end $$;

-- ---------------------------------------------------------------- ops
create table if not exists ops.sheet_registry (
    spreadsheet_id  text        not null,
    -- '' when the whole spreadsheet belongs to the unit (layout per_unit);
    -- the unit's tab title when one spreadsheet per period holds a tab per unit (per_period)
    tab_title       text        not null default '',
    layout          text        not null check (layout in ('per_unit', 'per_period')),
    programme_code  text        not null,
    period_code     text        not null,
    unit_code       text        not null,
    registered_at   timestamptz not null default now(),
    primary key (spreadsheet_id, tab_title),
    unique (period_code, unit_code)
);
-- hash of what provisioning last wrote in the unit's sheet (labels, task texts, due date,
-- guide, rules): a catalogue change since is written in place by the next provisioning run
alter table ops.sheet_registry add column if not exists content_sha256 text;
-- the service account (e-mail) the pipeline reads and writes the spreadsheet as: one it is
-- shared with (provisioning creates it as that account); null: the first of the pool
-- (sheets/client.py, "identities")
alter table ops.sheet_registry add column if not exists service_account text;

-- Google's quotas held by the client across every process and machine (sheets/quota.py): per
-- bucket (Sheets reads, Sheets writes, Drive; per service account and per project), the
-- earliest moment, by this server's clock, the next call may go
create table if not exists ops.api_quota (
    bucket   text        primary key,
    next_at  timestamptz not null
);

create table if not exists ops.pull_runs (
    pull_run_id     text        primary key,
    programme_code  text        not null,
    period_code     text        not null,
    mode            text        not null,
    started_at      timestamptz not null,
    finished_at     timestamptz,
    files_listed    integer,
    fetched         integer,
    new_versions    integer,
    unchanged       integer,
    failed          integer,
    api_calls       jsonb
);

-- the newest Drive modifiedTime a pull of the period has seen: the next pull lists only files
-- modified after it ("changed" mode)
alter table ops.pull_runs add column if not exists drive_watermark timestamptz;
-- a pull of some units only ("units" mode: a unit asked to be read again)
alter table ops.pull_runs add column if not exists unit_codes text[];
-- when Google answered the pull's listing (its Date header): the pull's "now" by Google's clock,
-- which decides the closing full pull and which the freshness check reads (null on older rows:
-- started_at stands in)
alter table ops.pull_runs add column if not exists listed_at timestamptz;
alter table ops.pull_runs drop constraint if exists pull_runs_mode_check;
alter table ops.pull_runs add constraint pull_runs_mode_check
    check (mode in ('full', 'changed', 'units'));

-- ---------------------------------------------------------------- parsed
create table if not exists parsed.report_headers (
    -- one report = one unit's part of one spreadsheet version (a tab, or the whole file)
    sheet_version_id     bigint      not null references raw.sheet_versions,
    unit_code            text        not null,   -- owner, from ops.sheet_registry
    period_code          text        not null,   -- from ops.sheet_registry
    validation_run_id    bigint      not null,
    spreadsheet_id       text        not null,
    registry_tab_title   text        not null default '',
    claimed_unit_code    text,                   -- what the sheet itself says
    claimed_period_code  text,
    -- personal contact data of the reporter: never exposed to bi_reader
    reporter_name        text,
    reporter_position    text,
    reporter_phone       text,
    reporter_email       text,
    submitted_text       text,
    is_submitted         boolean     not null,
    parsed_at            timestamptz not null,
    primary key (sheet_version_id, unit_code)
);
-- hash of what the unit itself filled (its tab, or its whole file; our check tabs left out):
-- a version whose part equals the unit's previous one is not a new report of that unit
alter table parsed.report_headers add column if not exists part_sha256 text;

create table if not exists parsed.task_rows (
    sheet_version_id bigint  not null references raw.sheet_versions,
    unit_code        text    not null,
    period_code      text    not null,
    row_key          text    not null,
    tab_title        text    not null,
    row_number       integer not null,
    task_code        text,
    status_text      text,
    -- chua_trien_khai | dang_trien_khai | hoan_thanh, null when unreadable or empty
    status_code      text,
    result_text      text,
    completed_on     date,
    completed_on_text text,
    evidence_text    text,
    note_text        text,
    primary key (sheet_version_id, row_key)
);

create table if not exists parsed.indicator_rows (
    sheet_version_id bigint  not null references raw.sheet_versions,
    unit_code        text    not null,
    period_code      text    not null,
    row_key          text    not null,
    tab_title        text    not null,
    row_number       integer not null,
    indicator_code   text,
    value_text       text,
    value_number     numeric,
    -- how the value was read: empty | number | interpreted | ambiguous | invalid
    value_reading    text    not null,
    reading_note     text,
    note_text        text,
    primary key (sheet_version_id, row_key)
);

create table if not exists parsed.feedback_rows (
    sheet_version_id bigint  not null references raw.sheet_versions,
    unit_code        text    not null,
    period_code      text    not null,
    row_key          text    not null,
    tab_title        text    not null,
    row_number       integer not null,
    kind             text    check (kind in ('kho_khan', 'kien_nghi')),
    kind_text        text,
    content_text     text,
    primary key (sheet_version_id, row_key)
);

-- whether the unit wrote anything in its task and indicator tables (a status, result, date,
-- evidence or note of a task; a value or note of an indicator): ingest.parse.ParsedReport.
-- has_content, THE definition, stored by validation; the marts read it ("Chưa điền" in
-- fct_submission) and never recompute it
alter table parsed.report_headers add column if not exists has_content boolean;
-- reports parsed before the column existed: the rule as it stood (the same cells, blank when
-- empty after trimming); a one-time fill, a no-op once every row has its flag
update parsed.report_headers h
set has_content = exists (
        select 1 from parsed.task_rows t
        where t.sheet_version_id = h.sheet_version_id and t.unit_code = h.unit_code
            and coalesce(nullif(trim(t.status_text), ''), nullif(trim(t.result_text), ''),
                nullif(trim(t.completed_on_text), ''), nullif(trim(t.evidence_text), ''),
                nullif(trim(t.note_text), '')) is not null
    ) or exists (
        select 1 from parsed.indicator_rows i
        where i.sheet_version_id = h.sheet_version_id and i.unit_code = h.unit_code
            and coalesce(nullif(trim(i.value_text), ''), nullif(trim(i.note_text), ''))
                is not null
    )
where h.has_content is null;
alter table parsed.report_headers alter column has_content set not null;
-- dbt's incremental models read only the validation runs they have not taken in yet, and the
-- reports of the (period, unit) pairs they touch (dbt_project/macros/history.sql)
create index if not exists report_headers_by_run on parsed.report_headers (validation_run_id);
create index if not exists report_headers_by_period_unit
    on parsed.report_headers (period_code, unit_code);
-- ... and the data tests on the rows read the periods a build wrote (dbt var history_scope)
create index if not exists task_rows_by_period on parsed.task_rows (period_code);
create index if not exists indicator_rows_by_period on parsed.indicator_rows (period_code);

-- ---------------------------------------------------------------- quality
create table if not exists quality.validation_runs (
    validation_run_id bigint generated always as identity primary key,
    pull_run_id       text,
    started_at        timestamptz not null,
    finished_at       timestamptz,
    ruleset_version   text        not null,
    sheet_versions    integer,
    rows_checked      integer,
    errors            integer,
    warnings          integer,
    gx_success        boolean,
    data_docs_path    text
);

create table if not exists quality.validation_issues (
    issue_id          bigint generated always as identity primary key,
    validation_run_id bigint  not null references quality.validation_runs,
    sheet_version_id  bigint  not null references raw.sheet_versions,
    unit_code         text    not null,
    period_code       text    not null,
    -- header | tasks | indicators | feedback
    part              text    not null,
    row_key           text,
    tab_title         text,
    cell_ref          text,
    rule_code         text    not null,
    severity          text    not null check (severity in ('error', 'warning')),
    -- an error that rejects the whole version (wrong unit or period), not just its row
    blocks_version    boolean not null default false,
    -- the Great Expectations expectation that found it
    expectation_type  text,
    value_found       text,
    message_vi        text    not null,
    expected_vi       text,
    fix_vi            text
);
create index if not exists validation_issues_by_version
    on quality.validation_issues (sheet_version_id);
-- dbt's incremental models read only the validation runs they have not taken in yet
-- (dbt_project/macros/history.sql): the rows of a run, and a unit's reports of a period
create index if not exists validation_issues_by_run
    on quality.validation_issues (validation_run_id);

-- the period a run checked, and how many reports (unit × version) it read; a run that found
-- nothing new is recorded too (reports = 0), so "was it checked?" always has an answer
alter table quality.validation_runs add column if not exists period_code text;
alter table quality.validation_runs add column if not exists reports integer;

-- every rule on every report of every run, passed or not: rows checked and rows failing
create table if not exists quality.rule_results (
    validation_run_id bigint  not null references quality.validation_runs,
    sheet_version_id  bigint  not null references raw.sheet_versions,
    unit_code         text    not null,
    period_code       text    not null,
    part              text    not null,
    rule_code         text    not null,
    severity          text    not null check (severity in ('error', 'warning')),
    rows_checked      integer not null,
    rows_failed       integer not null,
    primary key (validation_run_id, sheet_version_id, unit_code, rule_code)
);

-- a rule never fails more rows than it checked (dbt's staging tested it on every row of every run)
do $$
begin
    if not exists (select 1 from pg_constraint where conname = 'rule_results_rows_failed_checked') then
        alter table quality.rule_results add constraint rule_results_rows_failed_checked
            check (rows_failed >= 0 and (rows_failed <= rows_checked or rows_checked = 0));
    end if;
end $$;

-- rows kept out of the marts because of an error (or because their whole version was rejected),
-- exactly as they were read, with the rules they broke; raw keeps the sheet itself
create table if not exists quality.quarantined_rows (
    validation_run_id bigint  not null references quality.validation_runs,
    sheet_version_id  bigint  not null references raw.sheet_versions,
    unit_code         text    not null,
    period_code       text    not null,
    part              text    not null,
    row_key           text    not null,
    tab_title         text,
    row_number        integer,
    rule_codes        text[]  not null,
    row_data          jsonb   not null,
    quarantined_at    timestamptz not null,
    primary key (sheet_version_id, unit_code, part, row_key)
);

-- what was written back to each unit: the "Kết quả kiểm tra" tab, per report checked
create table if not exists ops.feedback_writes (
    feedback_write_id bigint generated always as identity primary key,
    spreadsheet_id    text        not null,
    tab_title         text        not null,
    sheet_id          bigint      not null,
    unit_code         text        not null,
    period_code       text        not null,
    sheet_version_id  bigint      not null references raw.sheet_versions,
    validation_run_id bigint      not null references quality.validation_runs,
    written_at        timestamptz not null,
    outcome           text        not null check (outcome in ('written', 'failed')),
    error_message     text
);
create index if not exists feedback_writes_by_report
    on ops.feedback_writes (sheet_version_id, unit_code);
-- what the tab said about whether the report counts (publish.unit_state.UnitState.key): the tab
-- is written again when it changes (a deadline passed, a build counted the report)
alter table ops.feedback_writes add column if not exists state_key text;

-- who each unit sheet is shared with, checked at provisioning and at each pull (from the
-- permissions the Drive listing gives): one row per spreadsheet checked, and one finding per
-- share beyond the unit and the Sở ("anyone with the link", a domain, an unknown account).
-- Append-only: the latest check of a spreadsheet says what is true now.
create table if not exists ops.sharing_checks (
    check_id        bigint generated always as identity primary key,
    checked_at      timestamptz not null,
    source          text        not null check (source in ('provision', 'pull')),
    run_id          text,
    period_code     text        not null,
    spreadsheet_id  text        not null,
    wide_shares     integer     not null
);
create index if not exists sharing_checks_by_spreadsheet
    on ops.sharing_checks (spreadsheet_id, check_id);
create table if not exists ops.sharing_findings (
    finding_id           bigint generated always as identity primary key,
    check_id             bigint  not null references ops.sharing_checks,
    spreadsheet_id       text    not null,
    unit_codes           text[]  not null,
    permission_id        text    not null,
    permission_type      text    not null,
    role                 text    not null,
    email_address        text,
    domain               text,
    allow_file_discovery boolean,
    -- noted | revoked (taken back: TONGHOP_REVOKE_WIDE_SHARES=1) | revoke_failed
    action               text    not null check (action in ('noted', 'revoked', 'revoke_failed')),
    error_message        text
);
create index if not exists sharing_findings_by_check on ops.sharing_findings (check_id);

-- ad hoc (đột xuất) periods requested from Airflow (DAG tonghop_adhoc_report): they join the
-- catalogue's periods; when units are listed, only those must report
create table if not exists ops.adhoc_periods (
    period_code     text primary key,
    programme_code  text        not null,
    period_name     text        not null,
    data_from       date        not null,
    data_to         date        not null,
    due_date        date        not null,
    opens_on        date        not null,
    requested_by    text,
    requested_at    timestamptz not null default now(),
    check (data_from <= data_to and opens_on <= due_date)
);
-- the last on-time moment (inclusive); null: the end of due_date, Vietnam time
alter table ops.adhoc_periods add column if not exists on_time_until timestamptz
    check (on_time_until >= due_date::timestamp at time zone 'Asia/Ho_Chi_Minh');
-- how its sheets are made, as the catalogue's periods.sheet_layout
alter table ops.adhoc_periods add column if not exists sheet_layout text not null
    default 'per_unit' check (sheet_layout in ('per_unit', 'per_period'));
create table if not exists ops.adhoc_period_units (
    period_code text not null references ops.adhoc_periods,
    unit_code   text not null,
    primary key (period_code, unit_code)
);

-- which catalogue (the dbt seed files, by fingerprint) the warehouse holds: the build reloads
-- the seeds only when their files changed. Any seed load empties it (a seed post-hook), so a
-- load by hand (`dbt seed`) is never mistaken for the files recorded here.
create table if not exists ops.catalogue_loads (
    fingerprint text        primary key,
    loaded_at   timestamptz not null default now()
);

-- what the incremental history (dbt's incremental models: every version, every row, every
-- check) was last built with (pipeline/dbt.py, history_definitions): a fingerprint of the dbt
-- project's definitions and the catalogue, and each ad hoc period that has reports with a hash
-- of its definition. A build whose project differs, or that finds one of those periods defined
-- again, rebuilds the history in full (`dbt build --full-refresh`). One row, written by each
-- build that succeeded.
create table if not exists ops.history_builds (
    definitions   text        not null,
    adhoc_periods jsonb       not null,
    built_at      timestamptz not null default now()
);

-- The landed tables grow for years while a day adds little to them, and autovacuum analyzes a
-- table once a tenth of it changed: after a few years, a new period's rows stay unknown to the
-- planner for weeks, and every query on that period (the build's, its tests') is planned for
-- one row — nested loops over thousands (3 GB read by one test in the history bench, where a
-- hash join reads 1 MB). Each dbt command calls this first (dbt_project.yml, on-run-start): it
-- analyzes the landed tables with more than 1,000 rows and a hundredth changed since they were
-- last analyzed (a new period's first pull; a few mornings of a season), and names them.
-- ANALYZE needs the tables' owner: it runs as the admin, for the transformer.
create or replace function ops.analyze_landed_tables() returns setof text
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    stale record;
begin
    for stale in
        select format('%I.%I', schemaname, relname) as name
        from pg_stat_user_tables
        where schemaname in ('raw', 'parsed', 'quality')
            and n_mod_since_analyze > 1000 + 0.01 * n_live_tup
        order by schemaname, relname
    loop
        execute 'analyze ' || stale.name;
        return next stale.name;
    end loop;
end $$;
revoke all on function ops.analyze_landed_tables() from public;

-- every publication of a period (publish/outdated.py): the fingerprint of the marts it read,
-- so that each publish run works out from the database which periods are out of date (a
-- failed build is caught up by the next one that succeeds, whatever triggered it)
create table if not exists ops.publications (
    publication_id          bigint generated always as identity primary key,
    period_code             text        not null,
    run_id                  text        not null,
    marts_fingerprint       text        not null,
    as_of_date              date,
    latest_sheet_version_id bigint,
    folder                  text,
    published_at            timestamptz not null default now()
);
create index if not exists publications_by_period on ops.publications (period_code, publication_id);

-- every reminder mail to a unit (publish/reminder_mail.py), sent or not: the day it was for (the
-- run's Vietnam day), the report's state it told (state_key: fct_submission.submission_state,
-- "con_loi/sai_ma" for a rejected sheet), and whether the server took it. Read before each
-- sending: a unit gets one mail per state and day; a failed one is sent again by the next run.
-- Append-only.
create table if not exists ops.reminder_mails (
    reminder_mail_id bigint generated always as identity primary key,
    period_code      text        not null,
    unit_code        text        not null,
    reminder_day     date        not null,
    state_key        text        not null,
    recipient        text        not null,
    subject          text        not null,
    message_id       text,
    run_id           text,
    sent_at          timestamptz not null default now(),
    outcome          text        not null check (outcome in ('sent', 'failed')),
    error_message    text
);
create index if not exists reminder_mails_by_day
    on ops.reminder_mails (period_code, reminder_day, unit_code);

-- ---------------------------------------------------------------- review (issue 24)
-- A period whose catalogue row says review_required has review sheets: one for the
-- consolidating body (reviewer_code 'tong_hop': the Sở) and one per parent unit that reviews
-- its units first (reviewer_code: the parent's unit code). Made by the publication
-- (publish/review_sheet.py), found again by their Drive appProperties too.
create table if not exists ops.review_sheets (
    period_code     text        not null,
    reviewer_code   text        not null,
    spreadsheet_id  text        not null unique,
    -- the service account that made it, reads and writes it
    service_account text,
    -- the reviewers' addresses it is shared with (writer)
    shared_with     text[]      not null default '{}',
    created_at      timestamptz not null default now(),
    -- what the publication last wrote in it (a hash of its rows): written again only on change
    content_sha256  text,
    written_at      timestamptz,
    primary key (period_code, reviewer_code)
);

-- Every distinct content read of a review sheet (ingest/review.py), append-only like
-- raw.sheet_versions: the decision table as the Sheets API returned its cells, when Google
-- answered (read_at), and the file's Drive revisions listed right after the read (who edited
-- it, when: dbt's int_review_decisions attributes each decision from them).
create table if not exists raw.review_readings (
    review_reading_id   bigint generated always as identity primary key,
    period_code         text        not null,
    reviewer_code       text        not null,
    spreadsheet_id      text        not null,
    read_at             timestamptz not null,
    content_sha256      text        not null,
    -- the table's rows as read: [[cell text, ...], ...] from its header row down
    payload             jsonb       not null,
    revisions           jsonb,
    -- the account the pipeline read (and writes) it as: its own revisions are not decisions
    service_account     text,
    pull_run_id         text        not null
);
create index if not exists review_readings_by_sheet
    on raw.review_readings (spreadsheet_id, review_reading_id desc);

do $$
begin
    if not exists (select 1 from pg_trigger where tgname = 'review_readings_append_only') then
        create trigger review_readings_append_only before update or delete on raw.review_readings
            for each row execute function raw.forbid_change();
        create trigger review_readings_no_truncate before truncate on raw.review_readings
            for each statement execute function raw.forbid_change();
    end if;
end $$;

-- Each row of a reading that holds a decision or a reason, as parsed (ingest/review.py): the
-- decision it applies (decision_code) or, when it cannot be applied, why (problem_code) and
-- what the review sheet tells the reviewer (message_vi).
create table if not exists parsed.review_decisions (
    review_reading_id bigint  not null references raw.review_readings,
    row_number        integer not null,
    unit_code         text,
    sheet_version_id  bigint,
    decision_text     text,
    decision_code     text    check (decision_code in ('chap_nhan', 'tra_lai')),
    reason            text,
    problem_code      text,
    message_vi        text,
    cell_ref          text,
    primary key (review_reading_id, row_number),
    check ((decision_code is null) <> (problem_code is null))
);

-- ---------------------------------------------------------------- privileges
-- The admin owns the landed tables so that the loader cannot alter or empty them.
grant usage on schema raw, parsed, quality, ops to loader, transformer;
grant select, insert on all tables in schema raw, parsed, quality to loader;
grant select, insert, update, delete on all tables in schema ops to loader;
grant select on all tables in schema raw, parsed, quality, ops to transformer;
grant usage on all sequences in schema raw, parsed, quality, ops to loader;
grant insert, delete on ops.catalogue_loads, ops.history_builds to transformer;
grant execute on function ops.analyze_landed_tables() to transformer;
-- the sharing record is append-only, for the loader too
revoke update, delete, truncate on ops.sharing_checks, ops.sharing_findings, ops.publications,
    ops.reminder_mails from loader;

-- dbt builds its schemas as the transformer; bi_reader may enter marts only.
create schema if not exists catalogue authorization transformer;
create schema if not exists staging authorization transformer;
create schema if not exists intermediate authorization transformer;
create schema if not exists marts authorization transformer;
create schema if not exists snapshots authorization transformer;
grant usage on schema marts to bi_reader;
