-- Sky classroom booking (docs/bookings.md): sessions, their receiving rooms, weekly series.

CREATE TABLE sky_session_series (
    id         INTEGER PRIMARY KEY,
    rule       TEXT NOT NULL,               -- RFC 5545 RRULE, as calendar feeds announce it
    weekdays   TEXT NOT NULL,               -- mon,wed
    first_day  TEXT NOT NULL,               -- county-local dates
    until      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE sky_sessions (
    id                 INTEGER PRIMARY KEY,
    series_id          INTEGER REFERENCES sky_session_series(id),
    occurrence_day     TEXT NOT NULL,       -- county-local date it was booked for; kept when it is moved
    kind               TEXT NOT NULL CHECK (kind IN ('open_lesson', 'collective_research', 'quality_course',
                                                     'teacher_training', 'recording')),
    title              TEXT NOT NULL,
    subject            TEXT NOT NULL DEFAULT '',
    grade              INTEGER CHECK (grade BETWEEN 0 AND 12),
    host_user_id       INTEGER NOT NULL REFERENCES users(id),
    source_room_code   TEXT NOT NULL REFERENCES rooms(code),
    source_school_code TEXT NOT NULL REFERENCES schools(code),
    starts_at          TEXT NOT NULL,
    ends_at            TEXT NOT NULL CHECK (ends_at > starts_at),
    recorded           INTEGER NOT NULL DEFAULT 0 CHECK (recorded IN (0, 1)),
    notes              TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL CHECK (state IN ('pending', 'booked', 'rejected', 'cancelled',
                                                      'expired', 'finished')),
    needs_approval     INTEGER NOT NULL CHECK (needs_approval IN (0, 1)),
    reason             TEXT NOT NULL DEFAULT '',   -- why it was rejected or cancelled
    stream_mbps        REAL NOT NULL CHECK (stream_mbps >= 0),  -- per stream, as booked
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
-- The county-wide list of a time window.
CREATE INDEX sky_sessions_starts ON sky_sessions(starts_at);
CREATE INDEX sky_sessions_source_room ON sky_sessions(source_room_code, starts_at);
CREATE INDEX sky_sessions_source_school ON sky_sessions(source_school_code, starts_at);
CREATE INDEX sky_sessions_host ON sky_sessions(host_user_id, starts_at);
CREATE INDEX sky_sessions_series ON sky_sessions(series_id, starts_at);
-- A check reads the sessions holding slots that start in the 12 hours before the new one ends: a range
-- of this index (the end rides along, so those that ended are skipped in the index). The expiry job
-- reads pending ones by start, and the finishing job booked ones by end.
CREATE INDEX sky_sessions_state_starts ON sky_sessions(state, starts_at, ends_at);
CREATE INDEX sky_sessions_state_ends ON sky_sessions(state, ends_at);

CREATE TABLE sky_session_receivers (
    session_id  INTEGER NOT NULL REFERENCES sky_sessions(id) ON DELETE CASCADE,
    room_code   TEXT NOT NULL REFERENCES rooms(code),
    school_code TEXT NOT NULL REFERENCES schools(code),
    class_code  TEXT REFERENCES classes(code),  -- the class picked; null when the room was picked
    live        INTEGER NOT NULL CHECK (live IN (0, 1)),  -- 0: no uplink on record, gets the recording
    starts_at   TEXT NOT NULL,                  -- the session's, so a room's schedule is an index range
    PRIMARY KEY (session_id, room_code)
) WITHOUT ROWID;  -- stored in session order, so a session's receivers are read in one seek
CREATE INDEX sky_session_receivers_room ON sky_session_receivers(room_code, starts_at);
CREATE INDEX sky_session_receivers_school ON sky_session_receivers(school_code, starts_at);
