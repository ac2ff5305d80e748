import subprocess
import sys

import openpyxl
import pytest

from eduops import county, inventory
from eduops.inventory import InventoryError
from tests.support.inventory_files import (CLASSES, GOOD, ROOMS, SCHOOLS, TERMINALS, TOWNSHIPS, make_xlsx,
                                           run_import, with_row)

def snapshot(database) -> dict:
    return {t: county.inventory_rows(database, t) for t in county.TABLES}


def test_a_good_workbook_imports_with_chinese_and_english_headers(fresh_db, tmp_path):
    counts = run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", GOOD))
    assert {t: c.added for t, c in counts.items()} == \
        {"townships": 2, "schools": 2, "rooms": 3, "classes": 2, "terminals": 2}
    s2 = fresh_db["schools"].get("S2")
    assert (s2["stage"], s2["small_scale"], s2["wireless_planned"], s2["township_code"]) == ("primary", 1, 0, "T02")
    assert fresh_db["townships"].get("T02")["area_code"] == "zhehai"
    assert fresh_db["rooms"].get("S1-B1")["kind"] == "broadcast"
    assert fresh_db["terminals"].get("S1-T2")["room_code"] is None  # in the school, not yet in a room


def test_reimporting_the_same_file_changes_nothing(fresh_db, tmp_path):
    path = make_xlsx(tmp_path / "inv.xlsx", GOOD)
    run_import(fresh_db, path)
    before = snapshot(fresh_db)
    counts = run_import(fresh_db, path)
    assert all(c.added == 0 and c.changed == 0 for c in counts.values())
    assert sum(c.unchanged for c in counts.values()) == 11
    assert snapshot(fresh_db) == before


def test_a_changed_row_is_updated_in_place(fresh_db, tmp_path):
    run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", GOOD))
    schools = [SCHOOLS[0], SCHOOLS[1][:4] + [950] + SCHOOLS[1][5:]]
    counts = run_import(fresh_db, make_xlsx(tmp_path / "fix.xlsx", {"schools": schools}))
    assert (counts["schools"].changed, counts["schools"].added) == (1, 0)
    assert fresh_db["schools"].get("S1")["pupils"] == 950




@pytest.mark.parametrize("sheet, row, expected", [
    ("学校", ["S3", "新学校", "T99", "小学", 10, "否", 10, "是", "是", ""],
     "schools/row 4: township_code (乡镇) names unknown township 'T99'"),
    ("学校", ["S1", "重复", "T01", "小学", 10, "否", 10, "是", "是", ""],
     "schools/row 4: duplicate code 'S1' (also on row 2)"),
    ("学校", ["S3", "新学校", "T01", "大学", 10, "否", 10, "是", "是", ""],
     "schools/row 4: stage (学段) unknown kind '大学'"),
    ("学校", ["S3", "新学校", "T01", "小学", "many", "否", 10, "是", "是", ""],
     "schools/row 4: pupils (学生数) 'many' is not a number"),
    ("学校", ["S3", "新学校", "T01", "小学", 10, "也许", 10, "是", "是", ""],
     "schools/row 4: small_scale (小规模学校) '也许' is not yes/no"),
    ("学校", ["S3", "", "T01", "小学", 10, "否", 10, "是", "是", ""],
     "schools/row 4: name (名称) is empty"),
    ("班级", ["S1-C2", "S1", 1, "一年级(2)班", "S1-R9"],
     "classes/row 4: room_code (教室) names unknown room 'S1-R9'"),
    ("班级", ["S1-C2", "S1", 1, "一年级(2)班", "S2-R1"],
     "classes/row 4: room_code (教室) room 'S2-R1' belongs to school 'S2', not 'S1'"),
    ("班级", ["S1-C2", "S1", 15, "一年级(2)班", "S1-R1"],
     "classes/row 4: grade (年级) 15 is not a grade"),
    ("terminals", ["S1-T3", "S1", "S1-R1", "television", ""],
     "terminals/row 4: kind (类型) unknown kind 'television'"),
    ("rooms", ["S1-R2", "S9", "102", "ordinary", 40, 1, 1],
     "rooms/row 5: school_code (学校) names unknown school 'S9'"),
    ("乡镇", ["T03", "大海乡", "atlantis"],
     "townships/row 4: area_code (片区) unknown kind 'atlantis'"),
])
def test_each_bad_row_is_reported_and_nothing_is_written(fresh_db, tmp_path, sheet, row, expected):
    with pytest.raises(InventoryError) as caught:
        run_import(fresh_db, make_xlsx(tmp_path / "bad.xlsx", with_row(sheet, row)))
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems
    assert county.table_counts(fresh_db) == dict.fromkeys(county.TABLES, 0)


def test_a_bad_file_leaves_an_existing_inventory_untouched(fresh_db, tmp_path):
    run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", GOOD))
    before = snapshot(fresh_db)
    bad = with_row("学校", ["S3", "新学校", "T99", "小学", 10, "否", 10, "是", "是", ""])
    bad["学校"][1][1] = "改名的学校"  # a valid change on another row must not land either
    with pytest.raises(InventoryError):
        run_import(fresh_db, make_xlsx(tmp_path / "bad.xlsx", bad))
    assert snapshot(fresh_db) == before


def test_every_problem_is_listed_not_just_the_first(fresh_db, tmp_path):
    sheets = with_row("学校", ["S3", "", "T99", "大学", -1, "否", 10, "是", "是", ""])
    with pytest.raises(InventoryError) as caught:
        run_import(fresh_db, make_xlsx(tmp_path / "bad.xlsx", sheets))
    assert len([p for p in caught.value.problems if p.startswith("schools/row 4")]) == 4


def test_header_problems_are_reported_on_row_1(fresh_db, tmp_path):
    sheets = {"schools": [["code", "name", "colour"], ["S1", "x", "red"]], "教师": [["a"], ["b"]]}
    with pytest.raises(InventoryError) as caught:
        run_import(fresh_db, make_xlsx(tmp_path / "bad.xlsx", sheets))
    problems = "\n".join(caught.value.problems)
    assert "教师: unknown sheet" in problems


def test_unknown_and_missing_columns_are_reported(fresh_db, tmp_path):
    sheets = {"schools": [["code", "name", "colour"], ["S1", "x", "red"]]}
    with pytest.raises(InventoryError) as caught:
        run_import(fresh_db, make_xlsx(tmp_path / "bad.xlsx", sheets))
    assert "schools/row 1: unknown column 'colour'" in caught.value.problems
    assert any(p.startswith("schools/row 1: missing column(s) township_code") for p in caught.value.problems)


def test_csv_files_named_after_their_sheet_import_in_utf8_and_gbk(fresh_db, tmp_path):
    (tmp_path / "乡镇.csv").write_bytes("编码,名称,片区\nT01,古城街道,主城区\n".encode("gb18030"))
    (tmp_path / "schools.csv").write_text(
        "\ufeffcode,name,township_code,stage,pupils,small_scale,uplink_mbps,wired_planned,wireless_planned,wifi_ssid\n"
        "S1,古城第一小学,T01,primary,900,no,1000,yes,yes,HZ\n", encoding="utf-8")
    run_import(fresh_db, tmp_path / "乡镇.csv", tmp_path / "schools.csv")
    assert fresh_db["townships"].get("T01")["name"] == "古城街道"
    assert fresh_db["schools"].get("S1")["wifi_ssid"] == "HZ"


def test_a_later_file_may_name_records_imported_earlier(fresh_db, tmp_path):
    run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", GOOD))
    run_import(fresh_db, make_xlsx(tmp_path / "more.xlsx", {"classes": [
        CLASSES[0], ["S1-C2", "S1", 2, "二年级(1)班", "S1-B1"]]}))
    assert fresh_db["classes"].get("S1-C2")["room_code"] == "S1-B1"


def test_export_writes_the_template_back_and_reimports_unchanged(fresh_db, tmp_path):
    run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", GOOD))
    before = snapshot(fresh_db)
    out = tmp_path / "out.xlsx"
    inventory.write_workbook(out, before)
    assert openpyxl.load_workbook(out).sheetnames == ["乡镇", "学校", "教室", "班级", "终端"]
    counts = run_import(fresh_db, out)
    assert all(c.added == 0 and c.changed == 0 for c in counts.values())
    assert snapshot(fresh_db) == before


def test_optional_columns_may_be_left_out_and_take_their_defaults(fresh_db, tmp_path):
    required = {"乡镇": TOWNSHIPS, "学校": [r[:4] for r in SCHOOLS], "rooms": [r[:4] for r in ROOMS],
                "班级": [r[:4] for r in CLASSES], "terminals": [r[:2] + r[3:4] for r in TERMINALS]}
    counts = run_import(fresh_db, make_xlsx(tmp_path / "required.xlsx", required))
    assert {t: c.added for t, c in counts.items()} == \
        {"townships": 2, "schools": 2, "rooms": 3, "classes": 2, "terminals": 2}
    s1 = fresh_db["schools"].get("S1")
    assert (s1["pupils"], s1["small_scale"], s1["uplink_mbps"], s1["wireless_planned"], s1["wifi_ssid"]) == \
        (0, 0, 0, 0, "")
    assert fresh_db["rooms"].get("S1-R1")["seats"] == 0 and fresh_db["classes"].get("S1-C1")["room_code"] is None
    # A sheet that leaves a column out does not wipe what an earlier import gave it.
    run_import(fresh_db, make_xlsx(tmp_path / "full.xlsx", GOOD))
    run_import(fresh_db, make_xlsx(tmp_path / "names.xlsx", {"学校": [r[:4] for r in SCHOOLS]}))
    assert fresh_db["schools"].get("S1")["pupils"] == 900


def test_a_refused_sheet_is_one_problem_not_a_flood_of_unknown_schools(fresh_db, tmp_path):
    no_stage = [[cell for n, cell in enumerate(r) if n != 3] for r in SCHOOLS]
    with pytest.raises(InventoryError) as refused:
        run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", {**GOOD, "学校": no_stage}))
    assert refused.value.problems == ["schools/row 1: missing column(s) stage"]


def test_a_school_may_list_several_ssids(fresh_db, tmp_path):
    schools = [SCHOOLS[0], SCHOOLS[1][:9] + [" HZJY-S1 ；HZJY-S1-Office\nHZJY-S1 "], SCHOOLS[2]]
    run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", {**GOOD, "学校": schools}))
    assert fresh_db["schools"].get("S1")["wifi_ssid"] == "HZJY-S1;HZJY-S1-Office"
    assert county.school_ssids(fresh_db["schools"].get("S1")["wifi_ssid"]) == ("HZJY-S1", "HZJY-S1-Office")


def test_wifi_planned_without_an_ssid_is_a_warning_not_a_refusal(db_path, tmp_path):
    schools = [SCHOOLS[0], SCHOOLS[1], SCHOOLS[2][:8] + ["是", ""]]
    path = make_xlsx(tmp_path / "inv.xlsx", {**GOOD, "学校": schools})
    done = subprocess.run([sys.executable, "-m", "eduops", "import", "--db", str(db_path), str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ("schools/row 3: warning: Wi-Fi is planned (无线网络) but no SSID is given (无线网络名称), "
            "so no agent can observe it") in done.stderr
    assert "schools: 2 added" in done.stdout
