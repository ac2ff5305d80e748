"""The `eduops` command as a user runs it: init, import, export, demo."""
import pytest

import openpyxl

from eduops import county
from eduops import db as dbmod
from tests.support.fleet_kit import eduops
from tests.support.hubprocess import HubProcess
from tests.support.inventory_files import GOOD, make_xlsx, with_row


def counts(db_path):
    database = dbmod.connect(db_path)
    try:
        return county.table_counts(database)
    finally:
        database.conn.close()


def test_init_creates_the_database(db_path):
    result = eduops("init", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert "schema version" in result.stdout
    assert counts(db_path) == dict.fromkeys(county.TABLES, 0)


def test_import_then_reimport_then_export(db_path, tmp_path):
    path = make_xlsx(tmp_path / "inv.xlsx", GOOD)
    first = eduops("import", "--db", str(db_path), str(path))
    assert first.returncode == 0, first.stderr
    assert "schools: 2 added, 0 changed, 0 unchanged" in first.stdout
    again = eduops("import", "--db", str(db_path), str(path))
    assert "schools: 0 added, 0 changed, 2 unchanged" in again.stdout
    out = tmp_path / "out.xlsx"
    assert eduops("export", "--db", str(db_path), str(out)).returncode == 0
    assert openpyxl.load_workbook(out)["学校"].max_row == 3


def test_import_with_bad_rows_is_refused_and_the_database_unchanged(db_path, tmp_path):
    eduops("import", "--db", str(db_path), str(make_xlsx(tmp_path / "inv.xlsx", GOOD)))
    before = counts(db_path)
    bad = with_row("班级", ["S1-C2", "S1", 1, "一年级(2)班", "S1-R9"])
    bad["学校"].append(["S9", "新学校", "T01", "大学", 10, "否", 10, "是", "是", ""])
    result = eduops("import", "--db", str(db_path), str(make_xlsx(tmp_path / "bad.xlsx", bad)))
    assert result.returncode == 1
    assert "classes/row 4: room_code (教室) names unknown room 'S1-R9'" in result.stderr
    assert "schools/row 4: stage (学段) unknown kind '大学'" in result.stderr
    assert "Nothing imported: 2 problem(s)" in result.stderr
    assert counts(db_path) == before


def test_import_of_an_unsupported_file_says_so(db_path, tmp_path):
    path = tmp_path / "inventory.ods"
    path.write_bytes(b"not really")
    result = eduops("import", "--db", str(db_path), str(path))
    assert result.returncode == 1
    assert "inventory.ods: not an .xlsx or .csv file" in result.stderr


@pytest.mark.e2e
def test_demo_builds_a_county_in_the_image_of_huize_and_serves_it(tmp_path):
    process = HubProcess(tmp_path / "demo.db", command="demo", extra_args=("--agents", "0"))
    try:
        page = process.get("/").text
        assert "演示数据" in page
        assert process.get("/healthz").json()["status"] == "ok"
    finally:
        process.stop()
    database = dbmod.connect(tmp_path / "demo.db")
    found = county.table_counts(database)
    areas = {a["code"]: a for a in county.area_summary(database)}
    stages = {r[0] for r in database.execute("SELECT DISTINCT stage FROM schools")}
    broadcast = database.execute("SELECT COUNT(*) FROM rooms r JOIN schools s ON s.code = r.school_code "
                                 "JOIN townships t ON t.code = s.township_code "
                                 "WHERE r.kind = 'broadcast' AND t.area_code = 'main_urban'").fetchone()[0]
    database.conn.close()
    assert 250 <= found["schools"] <= 350 and 3000 <= found["classes"] <= 5000
    assert 18 <= found["townships"] <= 25
    assert set(areas) == {"main_urban", "zhehai", "nagu", "daibu", "yiche"}
    assert all(a["schools"] > 0 for a in areas.values())
    assert stages == {"kindergarten", "primary", "junior", "senior", "complete", "vocational", "special"}
    assert broadcast >= 2
    assert found["terminals"] < found["classes"]  # realistic gaps: classes without a terminal


def test_demo_refuses_a_database_with_a_real_inventory(db_path, tmp_path):
    eduops("import", "--db", str(db_path), str(make_xlsx(tmp_path / "inv.xlsx", GOOD)))
    result = eduops("demo", "--db", str(db_path), "--port", "0")
    assert result.returncode != 0
    assert "real inventory" in result.stderr
