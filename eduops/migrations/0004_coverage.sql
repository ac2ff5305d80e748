-- Measure nine coverage: one row of counts per node (county, area, township,
-- school) per county-local day, kept for good for the trend toward 100%.
-- No foreign keys: a snapshot outlives the inventory records it counted.

CREATE TABLE coverage_snapshots (
    level    TEXT NOT NULL CHECK (level IN ('county', 'area', 'township', 'school')),
    code     TEXT NOT NULL,   -- '' for the county
    day      TEXT NOT NULL,   -- county-local YYYY-MM-DD
    taken_at TEXT NOT NULL,   -- UTC ISO of the run that wrote the row (the day's last run wins)
    classes                    INTEGER NOT NULL,
    schools                    INTEGER NOT NULL,
    class_terminal_inventory   INTEGER NOT NULL,
    class_terminal_observed    INTEGER NOT NULL,
    class_wired_inventory      INTEGER NOT NULL,
    class_wired_observed       INTEGER NOT NULL,
    class_wireless_inventory   INTEGER NOT NULL,
    class_wireless_observed    INTEGER NOT NULL,
    school_wired_inventory     INTEGER NOT NULL,
    school_wired_observed      INTEGER NOT NULL,
    school_wireless_inventory  INTEGER NOT NULL,
    school_wireless_observed   INTEGER NOT NULL,
    PRIMARY KEY (level, code, day)
) WITHOUT ROWID;
-- The snapshot job replaces a whole day at a time.
CREATE INDEX coverage_snapshots_day ON coverage_snapshots(day);
