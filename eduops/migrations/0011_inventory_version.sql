-- A mark that changes with every write to the inventory tables, so figures worked out from the
-- inventory alone (what a /metrics scrape and the coverage pages need of 4,000 classes and their
-- rooms) can be kept in memory and read again only after an import changed something
-- (eduops/county.py:per_inventory). A random token rather than a counter: two databases (a
-- copy, a test's) never share one unless their inventories are the same. Triggers, not the
-- import code, keep it, so a row fixed by hand with the sqlite3 shell counts too.

INSERT INTO meta (key, value) VALUES ('inventory_version', lower(hex(randomblob(8))))
ON CONFLICT(key) DO NOTHING;

CREATE TRIGGER areas_inserted AFTER INSERT ON areas BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER areas_updated AFTER UPDATE ON areas BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER areas_deleted AFTER DELETE ON areas BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER townships_inserted AFTER INSERT ON townships BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER townships_updated AFTER UPDATE ON townships BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER townships_deleted AFTER DELETE ON townships BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER schools_inserted AFTER INSERT ON schools BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER schools_updated AFTER UPDATE ON schools BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER schools_deleted AFTER DELETE ON schools BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER rooms_inserted AFTER INSERT ON rooms BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER rooms_updated AFTER UPDATE ON rooms BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER rooms_deleted AFTER DELETE ON rooms BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER classes_inserted AFTER INSERT ON classes BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER classes_updated AFTER UPDATE ON classes BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER classes_deleted AFTER DELETE ON classes BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER terminals_inserted AFTER INSERT ON terminals BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER terminals_updated AFTER UPDATE ON terminals BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
CREATE TRIGGER terminals_deleted AFTER DELETE ON terminals BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'inventory_version';
END;
