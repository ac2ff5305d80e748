-- The county model: areas, townships, schools, rooms, classes, terminals and
-- the network plan. Every record has a stable code so imports can be re-run.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Measure four's "1+4": the main urban area plus four areas.
CREATE TABLE areas (
    code    TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sort    INTEGER NOT NULL
);
INSERT INTO areas (code, name_zh, name_en, sort) VALUES
    ('main_urban', '主城区', 'Main urban area', 0),
    ('zhehai', '者海片区', 'Zhehai', 1),
    ('nagu', '娜姑片区', 'Nagu', 2),
    ('daibu', '待补片区', 'Daibu', 3),
    ('yiche', '迤车片区', 'Yiche', 4);

CREATE TABLE townships (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    area_code TEXT NOT NULL REFERENCES areas(code)
);
CREATE INDEX townships_area ON townships(area_code);

CREATE TABLE schools (
    code             TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    township_code    TEXT NOT NULL REFERENCES townships(code),
    stage            TEXT NOT NULL CHECK (stage IN ('kindergarten', 'primary', 'junior', 'senior',
                                                    'complete', 'vocational', 'special')),
    pupils           INTEGER NOT NULL DEFAULT 0 CHECK (pupils >= 0),
    -- measure four consolidates small village primaries and junior schools
    small_scale      INTEGER NOT NULL DEFAULT 0 CHECK (small_scale IN (0, 1)),
    uplink_mbps      REAL NOT NULL DEFAULT 0 CHECK (uplink_mbps >= 0),
    wired_planned    INTEGER NOT NULL DEFAULT 0 CHECK (wired_planned IN (0, 1)),
    wireless_planned INTEGER NOT NULL DEFAULT 0 CHECK (wireless_planned IN (0, 1)),
    wifi_ssid        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX schools_township ON schools(township_code);

CREATE TABLE rooms (
    code             TEXT PRIMARY KEY,
    school_code      TEXT NOT NULL REFERENCES schools(code),
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('ordinary', 'digital', 'broadcast')),
    seats            INTEGER NOT NULL DEFAULT 0 CHECK (seats >= 0),
    wired_planned    INTEGER NOT NULL DEFAULT 0 CHECK (wired_planned IN (0, 1)),
    wireless_planned INTEGER NOT NULL DEFAULT 0 CHECK (wireless_planned IN (0, 1))
);
CREATE INDEX rooms_school ON rooms(school_code);

CREATE TABLE classes (
    code        TEXT PRIMARY KEY,
    school_code TEXT NOT NULL REFERENCES schools(code),
    grade       INTEGER NOT NULL CHECK (grade BETWEEN 0 AND 12),
    name        TEXT NOT NULL,
    room_code   TEXT REFERENCES rooms(code)
);
CREATE INDEX classes_school ON classes(school_code);
CREATE INDEX classes_room ON classes(room_code);

CREATE TABLE terminals (
    code        TEXT PRIMARY KEY,
    school_code TEXT NOT NULL REFERENCES schools(code),
    room_code   TEXT REFERENCES rooms(code),
    kind        TEXT NOT NULL CHECK (kind IN ('interactive_display', 'all_in_one', 'projector', 'pc')),
    asset_tag   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX terminals_school ON terminals(school_code);
CREATE INDEX terminals_room ON terminals(room_code);
