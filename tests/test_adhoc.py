"""Ad hoc (đột xuất) reports requested at run time become periods of the pipeline and of dbt."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import query

DATABASE = "tonghop_adhoc"
CODE = "CB-2026-DX09"
UNITS = ["CB-SO-VHTTDL", "CB-XA-001", "CB-XA-002"]
#: an ad hoc report due before its data window ends: its last days are estimates
LONG = "CB-2026-DX11"


@pytest.fixture(scope="module")
def adhoc(settings, tmp_path_factory):
    from pipeline.adhoc import request_adhoc_period
    from pipeline.dbt import run_dbt
    from tooling import localdb

    localdb.ensure_warehouse(DATABASE)
    own = settings.for_database(DATABASE).with_overrides(
        output_dir=tmp_path_factory.mktemp("adhoc")
    )
    first = request_adhoc_period(
        own,
        programme_code="CB-KH84",
        period_code=CODE.lower(),
        period_name="Báo cáo đột xuất  về lễ hội mùa xuân",
        data_from="2026-01-01",
        data_to="2026-03-31",
        due_date="2026-04-10",
        opens_on="2026-04-01",
        unit_codes=UNITS,
        requested_by="test",
    )
    # asked again with a later due date and an explicit last on-time moment (17:00, Vietnam
    # time): the same period, updated
    second = request_adhoc_period(
        own,
        programme_code="CB-KH84",
        period_code=CODE,
        period_name="Báo cáo đột xuất về lễ hội",
        data_from="2026-01-01",
        data_to="2026-03-31",
        due_date="2026-04-15",
        opens_on="2026-04-01",
        on_time_until="2026-04-15 17:00",
        unit_codes=UNITS,
    )
    long = request_adhoc_period(
        own,
        programme_code="CB-KH84",
        period_code=LONG,
        period_name="Báo cáo đột xuất kết quả quý II",
        data_from="2026-04-01",
        data_to="2026-06-30",
        due_date="2026-06-25",
        opens_on="2026-06-01",
        unit_codes=UNITS[:1],
        sheet_layout="per_period",
    )
    assert long["period_code"] == LONG
    run_dbt(own, ["build"])
    return own, first, second


def test_the_request_is_stored_once_and_updated(adhoc):
    own, first, second = adhoc
    assert first["period_code"] == CODE and first["expected_units"] == len(UNITS)
    assert first["period_name"] == "Báo cáo đột xuất về lễ hội mùa xuân"  # spaces tidied
    # by default the last on-time moment is the end of the due date, Vietnam time
    assert first["on_time_until"] == "2026-04-10T23:59:59+07:00"
    rows = query(
        own.dsn("admin"),
        """
        select period_code, period_name, due_date, on_time_until from ops.adhoc_periods
        where period_code = %s""",
        (CODE,),
    )
    assert rows == [
        (
            CODE,
            "Báo cáo đột xuất về lễ hội",
            dt.date(2026, 4, 15),
            dt.datetime(2026, 4, 15, 10, 0, tzinfo=dt.UTC),
        )
    ]
    units = query(
        own.dsn("admin"),
        """select unit_code from ops.adhoc_period_units
                                       where period_code = %s order by 1""",
        (CODE,),
    )
    assert [u for (u,) in units] == UNITS


def test_the_pipeline_catalogue_holds_it_with_only_the_requested_units(adhoc):
    from tonghop.catalogue import load_catalogue

    own, *_ = adhoc
    catalogue = load_catalogue(settings=own)
    period = catalogue.period(CODE)
    assert (period.period_kind, period.due_date) == ("dot_xuat", dt.date(2026, 4, 15))
    assert [u.unit_code for u in catalogue.expected_units(CODE)] == UNITS
    assert CODE not in load_catalogue().periods  # the seeds' catalogue is untouched


def test_the_calendar_pulls_it_like_any_period(adhoc):
    from tonghop.calendar import actions_on
    from tonghop.catalogue import load_catalogue

    own, *_ = adhoc
    catalogue = load_catalogue(settings=own)

    def kinds(day):
        return {a.kind for a in actions_on(catalogue, day) if a.period_code == CODE}

    # on time until 17:00 on 15/4: the 06:00 run that day still pulls what changed, the final
    # full pull is the next morning's
    assert kinds(dt.date(2026, 4, 15)) == {"provision", "daily_pull"}
    assert kinds(dt.date(2026, 4, 16)) == {"final_pull"}


def test_dbt_expects_reports_from_the_requested_units_only(adhoc):
    own, *_ = adhoc
    marts = own.dsn("bi_reader")
    assert query(
        marts,
        """select period_kind, due_date, on_time_until from marts.dim_period
                           where period_code = %s""",
        (CODE,),
    ) == [("dot_xuat", dt.date(2026, 4, 15), dt.datetime(2026, 4, 15, 10, 0, tzinfo=dt.UTC))]
    rows = query(
        marts,
        """select unit_code, reporting_status from marts.fct_submission
                           where period_code = %s order by unit_code""",
        (CODE,),
    )
    assert rows == [(u, "missing") for u in UNITS]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"programme_code": "XX-KH1"}, "không có trong danh mục"),
        ({"period_code": "CB-2026-6T"}, "đã là kỳ"),
        ({"period_code": "kỳ mới"}, "chỉ gồm chữ in hoa"),
        ({"data_from": "2026-05-01"}, "phải trước ngày kết thúc"),
        ({"due_date": "20/4/2026"}, "không phải ngày dạng YYYY-MM-DD"),
        ({"unit_codes": ["TD-UBND"]}, "không được giao nhiệm vụ"),
        ({"period_name": "  "}, "Cần ghi tên kỳ"),
        ({"sheet_layout": "mot_file"}, "Cách tạo bảng tính “mot_file” không hợp lệ"),
    ],
)
def test_a_request_that_cannot_be_accepted_says_why_in_vietnamese(adhoc, change, message):
    from pipeline.adhoc import AdhocRequestError, request_adhoc_period

    own, *_ = adhoc
    request = {
        "programme_code": "CB-KH84",
        "period_code": "CB-2026-DX10",
        "period_name": "Báo cáo đột xuất",
        "data_from": "2026-01-01",
        "data_to": "2026-03-31",
        "due_date": "2026-04-10",
        "opens_on": "2026-04-01",
        "unit_codes": [],
    }
    with pytest.raises(AdhocRequestError, match=message):
        request_adhoc_period(own, **{**request, **change})
    assert query(
        own.dsn("admin"),
        "select count(*) from ops.adhoc_periods where period_code = 'CB-2026-DX10'",
    ) == [(0,)]


def test_its_sheet_layout_is_the_requests_and_fixed_once_sheets_exist(adhoc):
    """The layout asked for is the period's (provisioning reads it, like the catalogue's
    periods.sheet_layout); once a sheet is made, asking for another layout is refused."""
    from pipeline.adhoc import AdhocRequestError, request_adhoc_period
    from tonghop.catalogue import load_catalogue

    own, *_ = adhoc
    catalogue = load_catalogue(settings=own)
    assert catalogue.period(LONG).sheet_layout == "per_period"
    assert catalogue.period(CODE).sheet_layout == "per_unit"  # the default
    assert {p.sheet_layout for c, p in load_catalogue().periods.items()} == {"per_unit"}
    request = {
        "programme_code": "CB-KH84",
        "period_code": "CB-2026-DX12",
        "period_name": "Báo cáo đột xuất",
        "data_from": "2026-01-01",
        "data_to": "2026-03-31",
        "due_date": "2026-04-10",
        "opens_on": "2026-04-01",
        "unit_codes": UNITS[:1],
        "sheet_layout": "per_period",
    }
    request_adhoc_period(own, **request)
    import psycopg2

    conn = psycopg2.connect(own.dsn("admin"))
    with conn, conn.cursor() as cur:  # a sheet made for it (as provisioning records it)
        cur.execute(
            """insert into ops.sheet_registry (spreadsheet_id, tab_title, layout,
                           programme_code, period_code, unit_code)
                       values ('sheet-dx12', 'Sở VHTTDL', 'per_period', 'CB-KH84',
                               'CB-2026-DX12', %s)""",
            (UNITS[0],),
        )
    conn.close()
    request_adhoc_period(own, **{**request, "due_date": "2026-04-12"})  # same layout: fine
    with pytest.raises(AdhocRequestError, match="không đổi được cách tạo bảng tính"):
        request_adhoc_period(own, **{**request, "sheet_layout": "per_unit"})
    assert load_catalogue(settings=own).period("CB-2026-DX12").sheet_layout == "per_period"


def test_an_ad_hoc_window_ending_after_its_due_date_has_estimates(adhoc):
    """The rule of the catalogue's periods, derived for a request: figures from the day after
    the last on-time day to the window's end are estimates, in the pipeline's catalogue (the
    sheet says so) and in the marts; the due date is the request's, not assumed."""
    from sheets import layout
    from tonghop.catalogue import load_catalogue

    own, *_ = adhoc
    catalogue = load_catalogue(settings=own)
    period = catalogue.period(LONG)
    assert period.estimated_from == dt.date(2026, 6, 26)
    assert period.estimate_note_vi == "Số liệu từ 26/06/2026 đến 30/06/2026 là số ước thực hiện"
    assert (period.due_date_basis, period.due_date_note_vi) == ("yeu_cau", "")
    assert catalogue.period(CODE).estimated_from is None
    info = next(
        t for t in layout.report_tabs(catalogue, UNITS[0], LONG) if t.title == layout.TAB_INFO
    )
    assert [
        "Thời gian chốt số liệu",
        "1/4/2026 – 30/6/2026 (số liệu từ 26/06/2026 đến 30/06/2026 là số ước thực hiện)",
    ] in info.rows
    assert query(
        own.dsn("bi_reader"),
        """
        select period_code, has_estimate, estimated_from, estimated_to, due_date_basis,
               is_due_date_assumed
        from marts.dim_period where period_code in (%s, %s) order by 1""",
        (CODE, LONG),
    ) == [
        (CODE, False, None, None, "yeu_cau", False),
        (LONG, True, dt.date(2026, 6, 26), dt.date(2026, 6, 30), "yeu_cau", False),
    ]
