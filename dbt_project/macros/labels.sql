{#- Vietnamese labels that BI users read, one mapping per code list. -#}

{% macro label_case(expression, mapping) -%}
    case {{ expression }}
        {%- for code, label in mapping.items() %}
        when '{{ code }}' then '{{ label }}'
        {%- endfor %}
    end
{%- endmacro %}

{% macro status_label_vi(code) -%}
    {{ label_case(code, {
        'chua_trien_khai': 'Chưa triển khai',
        'dang_trien_khai': 'Đang triển khai',
        'hoan_thanh': 'Hoàn thành',
        'dang_thuc_hien_thuong_xuyen': 'Đang thực hiện thường xuyên',
    }) }}
{%- endmacro %}

{% macro reporting_status_label_vi(code) -%}
    {{ label_case(code, {
        'on_time': 'Đúng hạn',
        'late': 'Trễ hạn',
        'missing': 'Chưa nộp',
    }) }}
{%- endmacro %}

{#- the one submission state of an expected report (fct_submission: the rule is there) -#}
{% macro submission_state_label_vi(code) -%}
    {{ label_case(code, {
        'hop_le_dung_han': 'Nộp hợp lệ, đúng hạn',
        'hop_le_tre_han': 'Nộp hợp lệ, trễ hạn',
        'con_loi': 'Đã nộp nhưng còn lỗi',
        'chua_chon_da_nop': 'Chưa chọn “Đã nộp”',
        'chua_dien': 'Chưa điền',
        'cho_duyet': 'Chờ duyệt',
        'bi_tra_lai': 'Bị trả lại',
        'chua_co_bang': 'Chưa có bảng tính',
    }) }}
{%- endmacro %}

{#- where an expected report stands with its reviewers (fct_submission.approval_state, when the
    period requires review; int_report_approvals holds the rule) -#}
{% macro approval_state_label_vi(code) -%}
    {{ label_case(code, {
        'da_chap_nhan': 'Đã được chấp nhận',
        'cho_cap_tren_duyet': 'Chờ đơn vị cấp trên duyệt',
        'cho_duyet': 'Chờ duyệt',
        'bi_tra_lai': 'Bị trả lại',
        'chua_co_ban_hop_le': 'Chưa có bản hợp lệ để duyệt',
    }) }}
{%- endmacro %}

{% macro validation_status_label_vi(code) -%}
    {{ label_case(code, {
        'hop_le': 'Hợp lệ',
        'co_loi': 'Có lỗi',
        'chua_co_bang': 'Chưa có bảng',
    }) }}
{%- endmacro %}

{% macro period_kind_label_vi(code) -%}
    {{ label_case(code, {
        '6_thang': '6 tháng',
        'nam': 'Năm',
        'dot_xuat': 'Đột xuất',
    }) }}
{%- endmacro %}

{% macro timing_label_vi(code) -%}
    {{ label_case(code, {
        'thuong_xuyen': 'Thường xuyên',
        'hang_nam': 'Hằng năm',
        'co_thoi_han': 'Có thời hạn',
    }) }}
{%- endmacro %}

{% macro role_label_vi(code) -%}
    {{ label_case(code, {
        'chu_tri': 'Chủ trì',
        'phoi_hop': 'Phối hợp',
    }) }}
{%- endmacro %}

{% macro feedback_kind_label_vi(code) -%}
    {{ label_case(code, {
        'kho_khan': 'Khó khăn, vướng mắc',
        'kien_nghi': 'Kiến nghị, đề xuất',
    }) }}
{%- endmacro %}

{% macro achievement_label_vi(code) -%}
    {{ label_case(code, {
        'dat': 'Đạt',
        'chua_dat': 'Chưa đạt',
        'chua_co_so_lieu': 'Chưa có số liệu',
        'khong_ap_dung': 'Không áp dụng cho kỳ này',
        'khong_co_muc_tieu': 'Không đặt mục tiêu',
    }) }}
{%- endmacro %}

{% macro change_kind_label_vi(code) -%}
    {{ label_case(code, {
        'sap_nhap': 'Sáp nhập',
        'chia_tach': 'Chia tách',
        'doi_ten': 'Đổi tên',
        'giai_the': 'Giải thể',
        'thanh_lap': 'Thành lập',
    }) }}
{%- endmacro %}

{% macro unit_level_label_vi(code) -%}
    {{ label_case(code, {
        'tinh': 'Tỉnh',
        'huyen': 'Huyện',
        'xa': 'Xã',
    }) }}
{%- endmacro %}

{% macro severity_label_vi(code) -%}
    {{ label_case(code, {
        'error': 'Lỗi',
        'warning': 'Cảnh báo',
    }) }}
{%- endmacro %}

{% macro due_date_basis_label_vi(code) -%}
    {{ label_case(code, {
        'ke_hoach': 'Theo kế hoạch',
        'yeu_cau': 'Theo văn bản yêu cầu báo cáo đột xuất',
        'gia_dinh': 'Giả định (kế hoạch không quy định)',
    }) }}
{%- endmacro %}

{#- a reviewer's decision on a version (the review sheet's drop-down) -#}
{% macro review_decision_label_vi(code) -%}
    {{ label_case(code, {
        'chap_nhan': 'Chấp nhận',
        'tra_lai': 'Trả lại',
    }) }}
{%- endmacro %}

{#- where a version stands at one review level (fct_report_review.level_state) -#}
{% macro review_level_state_label_vi(code) -%}
    {{ label_case(code, {
        'da_chap_nhan': 'Đã chấp nhận',
        'bi_tra_lai': 'Đã trả lại',
        'cho_duyet': 'Chờ duyệt',
        'co_ban_moi_hon': 'Đã có bản mới hơn',
    }) }}
{%- endmacro %}
