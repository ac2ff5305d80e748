-- Coverage per room and day, so a /metrics scrape of a county (20,000 terminals, 4,000 classes)
-- reads one short row per room and window day instead of probing every agent's days.
--
-- room_days sums agent_days over the agents in service (not retired): for each room and
-- county-local day, when an agent first reported there, first had a wired link up there and
-- first saw one of the school's own SSIDs there, and the best signal of those. The triggers
-- below keep both rollups in step with every write to agent_days (the ingest writer's, in the
-- same statement: only a report that changes its agent day's first times or best signal
-- touches them); retiring an agent, or enrolling a retired one again, works its rows out
-- afresh from agent_days (eduops/fleet/room_days.py). agent_days stays the record: the fleet pages read it, and so
-- does coverage for the days of agents retired after a backdated snapshot's moment.
--
-- room_firsts answers the disagreements' "ever" questions over every agent, retired or not:
-- when an agent first reported from the room, and first saw one of the school's SSIDs there.

CREATE TABLE room_days (
    room_code            TEXT NOT NULL REFERENCES rooms(code),
    day                  TEXT NOT NULL,    -- county-local YYYY-MM-DD
    first_report_at      TEXT NOT NULL,    -- UTC ISO of the day's first report in this room
    first_wired_at       TEXT,             -- first report with a wired link up; NULL: none
    first_school_wifi_at TEXT,             -- first report that saw one of the school's SSIDs; NULL: none
    school_wifi_best_dbm INTEGER,          -- their best signal
    PRIMARY KEY (room_code, day)
) WITHOUT ROWID;

-- Existing days keep counting: every agent's days, less those of agents already retired.
INSERT INTO room_days
SELECT room_code, day, min(first_report_at), min(first_wired_at), min(first_school_wifi_at), max(school_wifi_best_dbm)
FROM agent_days WHERE agent_id NOT IN (SELECT id FROM agents WHERE state = 'retired')
GROUP BY room_code, day;

CREATE TABLE room_firsts (
    room_code            TEXT PRIMARY KEY REFERENCES rooms(code),
    first_report_at      TEXT NOT NULL,
    first_school_wifi_at TEXT              -- NULL: no agent ever saw the school's SSID there
) WITHOUT ROWID;

INSERT INTO room_firsts
SELECT room_code, min(first_report_at), min(first_school_wifi_at) FROM agent_days GROUP BY room_code;

-- room_firsts answers what this index was for (a room's school Wi-Fi ever seen): the ingest
-- writer no longer keeps it up.
DROP INDEX agent_days_room_school_wifi;

-- Agents retired after a backdated snapshot's moment still count for it: the few retired
-- agents are read from this partial index, not found among all of them.
CREATE INDEX agents_retired ON agents(retired_at, id) WHERE state = 'retired';
-- Terminals by school and kind are counted in index order (no sort); the index also serves
-- every lookup of a school's terminals, so it replaces terminals_school.
CREATE INDEX terminals_school_kind ON terminals(school_code, kind);
DROP INDEX terminals_school;

-- The rollups follow agent_days. A room's day takes the agents in service only; its firsts take
-- every agent. An update fires them only when a first time or the best signal changed.
CREATE TRIGGER agent_days_rolled_up_on_insert AFTER INSERT ON agent_days BEGIN
    INSERT INTO room_days SELECT new.room_code, new.day, new.first_report_at, new.first_wired_at,
                                 new.first_school_wifi_at, new.school_wifi_best_dbm
    WHERE (SELECT state FROM agents WHERE id = new.agent_id) IS NOT 'retired'
    ON CONFLICT(room_code, day) DO UPDATE SET
        first_report_at = min(first_report_at, excluded.first_report_at),
        first_wired_at = coalesce(min(first_wired_at, excluded.first_wired_at), first_wired_at, excluded.first_wired_at),
        first_school_wifi_at = coalesce(min(first_school_wifi_at, excluded.first_school_wifi_at),
                                        first_school_wifi_at, excluded.first_school_wifi_at),
        school_wifi_best_dbm = max(coalesce(school_wifi_best_dbm, excluded.school_wifi_best_dbm),
                                   coalesce(excluded.school_wifi_best_dbm, school_wifi_best_dbm));
    INSERT INTO room_firsts VALUES (new.room_code, new.first_report_at, new.first_school_wifi_at)
    ON CONFLICT(room_code) DO UPDATE SET
        first_report_at = min(first_report_at, excluded.first_report_at),
        first_school_wifi_at = coalesce(min(first_school_wifi_at, excluded.first_school_wifi_at),
                                        first_school_wifi_at, excluded.first_school_wifi_at);
END;

CREATE TRIGGER agent_days_rolled_up_on_update AFTER UPDATE ON agent_days
WHEN new.first_report_at IS NOT old.first_report_at OR new.first_wired_at IS NOT old.first_wired_at
     OR new.first_school_wifi_at IS NOT old.first_school_wifi_at OR new.school_wifi_best_dbm IS NOT old.school_wifi_best_dbm
BEGIN
    INSERT INTO room_days SELECT new.room_code, new.day, new.first_report_at, new.first_wired_at,
                                 new.first_school_wifi_at, new.school_wifi_best_dbm
    WHERE (SELECT state FROM agents WHERE id = new.agent_id) IS NOT 'retired'
    ON CONFLICT(room_code, day) DO UPDATE SET
        first_report_at = min(first_report_at, excluded.first_report_at),
        first_wired_at = coalesce(min(first_wired_at, excluded.first_wired_at), first_wired_at, excluded.first_wired_at),
        first_school_wifi_at = coalesce(min(first_school_wifi_at, excluded.first_school_wifi_at),
                                        first_school_wifi_at, excluded.first_school_wifi_at),
        school_wifi_best_dbm = max(coalesce(school_wifi_best_dbm, excluded.school_wifi_best_dbm),
                                   coalesce(excluded.school_wifi_best_dbm, school_wifi_best_dbm));
    INSERT INTO room_firsts SELECT new.room_code, new.first_report_at, new.first_school_wifi_at
    WHERE new.first_report_at IS NOT old.first_report_at OR new.first_school_wifi_at IS NOT old.first_school_wifi_at
    ON CONFLICT(room_code) DO UPDATE SET
        first_report_at = min(first_report_at, excluded.first_report_at),
        first_school_wifi_at = coalesce(min(first_school_wifi_at, excluded.first_school_wifi_at),
                                        first_school_wifi_at, excluded.first_school_wifi_at);
END;
