-- What happened after "sent": the platform's own delivery statuses, read
-- back by `pregon track`. The never-send-twice states stay in contacts;
-- this table only ever describes contacts that are sent.
CREATE TABLE deliveries (
	contact_id   INTEGER PRIMARY KEY REFERENCES contacts(id),
	status       TEXT NOT NULL,   -- the platform's newest: pending, sent, delivered, read, failed
	error        TEXT,            -- the platform's failure text, verbatim
	delivered_at TEXT,            -- the platform's times (its clock)
	read_at      TEXT,
	failed_at    TEXT,
	checked_at   TEXT NOT NULL,   -- when pregon last asked (this machine's clock)
	checks       INTEGER NOT NULL DEFAULT 1
);
