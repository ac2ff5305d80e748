"""Import the demo county's inventory (over 5,000 rows) from XLSX into a fresh database.

Prints the time of a full import (read, check every row, write all) beside the time
it takes openpyxl merely to read the same workbook, measured in the same run.

    .venv/bin/python bench/import_inventory.py [--runs 3]
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import openpyxl

from eduops import county, inventory
from eduops.demo import county as demo
from eduops import db as dbmod


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions; the median is printed")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        workbook = Path(tmp) / "inventory.xlsx"
        records = demo.build_county(random.Random(demo.SEED))
        inventory.write_workbook(workbook, records)
        rows = sum(len(r) for r in records.values())

        def read_only() -> None:
            book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
            for ws in book.worksheets:
                for _ in ws.iter_rows(values_only=True):
                    pass
            book.close()

        def full_import(n: list[int] = [0]) -> None:
            n[0] += 1
            database = dbmod.connect(Path(tmp) / f"run{n[0]}.db")
            dbmod.migrate(database)
            checked = inventory.validate(inventory.read_workbook([workbook]), county.existing_codes(database))
            county.apply_inventory(database, checked)
            database.conn.close()

        baseline = statistics.median(timed(read_only) for _ in range(runs))
        imported = statistics.median(timed(full_import) for _ in range(runs))
    print(f"rows: {rows}")
    print(f"baseline (openpyxl reads the workbook): {baseline:.2f} s")
    print(f"eduops import (read, check, write):     {imported:.2f} s  ({imported / baseline:.1f}x baseline, "
          f"{rows / imported:,.0f} rows/s)")


if __name__ == "__main__":
    main()
