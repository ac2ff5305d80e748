-- Coverage keeps its observations per agent, day and room: where the agent stood when it
-- reported (a terminal moved from A to B leaves A's observations in A), and whether it saw
-- one of its school's own SSIDs (a school may list several; a stronger phone hotspot the
-- same day hides nothing). The first-seen times let a backdated snapshot count only what
-- had been reported by its `now`.
--
-- Rows carried over from 0005 keep counting: each goes to its agent's current room (the
-- only room 0005 knew), its day's strongest network counts as the school's when it was the
-- school's SSID, and its first-seen times are the start of the day before (earlier than any
-- moment of that county-local day, so the whole day counts from its start, as it did).

CREATE TABLE agent_days_by_room (
    agent_id             TEXT NOT NULL REFERENCES agents(id),
    day                  TEXT NOT NULL,    -- county-local YYYY-MM-DD
    room_code            TEXT NOT NULL REFERENCES rooms(code),   -- the agent's room when it reported
    reports              INTEGER NOT NULL,
    first_report_at      TEXT NOT NULL,    -- UTC ISO of the day's first report in this room
    wired_up_reports     INTEGER NOT NULL,
    first_wired_at       TEXT,             -- first report with a wired link up; NULL: none
    wifi_ssid            TEXT,             -- the day's strongest network, whoever runs it (fleet pages)
    wifi_best_dbm        INTEGER,
    school_wifi_reports  INTEGER NOT NULL, -- reports that saw one of the school's own SSIDs
    school_wifi_best_dbm INTEGER,          -- their best signal
    first_school_wifi_at TEXT,             -- the first of them; NULL: none
    -- Room first: coverage reads a room's days in the window, so they lie together in the table.
    PRIMARY KEY (room_code, day, agent_id)
) WITHOUT ROWID;

INSERT INTO agent_days_by_room
SELECT agent_id, day, room_code, reports, day_start, wired_up_reports,
       CASE WHEN wired_up_reports > 0 THEN day_start END, wifi_ssid, wifi_best_dbm,
       seen, CASE WHEN seen THEN wifi_best_dbm END, CASE WHEN seen THEN day_start END
FROM (SELECT d.*, a.room_code, date(d.day, '-1 day') || 'T00:00:00.000000Z' AS day_start,
             d.wifi_ssid IS NOT NULL AND d.wifi_ssid = s.wifi_ssid AS seen
      FROM agent_days d JOIN agents a ON a.id = d.agent_id JOIN schools s ON s.code = a.school_code);

DROP TABLE agent_days;
ALTER TABLE agent_days_by_room RENAME TO agent_days;

-- The fleet pages read an agent's newest day.
CREATE INDEX agent_days_agent ON agent_days(agent_id, day);
-- Coverage asks per room whether any agent ever saw the school's own Wi-Fi there: one probe.
CREATE INDEX agent_days_room_school_wifi ON agent_days(room_code) WHERE school_wifi_reports > 0;
