-- Ledger format 1: pregon's first ledger schema.
--
-- Every statement is idempotent (IF NOT EXISTS): ledgers written by pregon
-- before formats were numbered are stamped 0 and already have these tables.

CREATE TABLE IF NOT EXISTS campaigns (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	fingerprint TEXT NOT NULL,            -- what every contact receives (campaign.Fingerprint)
	sandbox     INTEGER NOT NULL,         -- 1 when rehearsed against the sandbox
	import_gen  INTEGER NOT NULL DEFAULT 0,
	header      TEXT NOT NULL DEFAULT '[]', -- the last CSV's column names, as JSON
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS contacts (
	id           INTEGER PRIMARY KEY,
	campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
	line         INTEGER NOT NULL,        -- CSV line, as a text editor shows it
	contact      TEXT NOT NULL,           -- identity; '' for invalid rows without one
	path         TEXT NOT NULL,           -- API path the payload is posted to
	payload      BLOB NOT NULL,           -- exact request body
	cells        TEXT NOT NULL DEFAULT '[]', -- the row's values in header order, as JSON (for export)
	source       TEXT NOT NULL DEFAULT '',   -- the CSV file's name
	state        TEXT NOT NULL CHECK (state IN
	               ('pending','sending','sent','failed','unknown','invalid','duplicate')),
	permanent    INTEGER NOT NULL DEFAULT 0, -- failed: the platform refused this contact
	attempts     INTEGER NOT NULL DEFAULT 0,
	http_status  INTEGER,
	message_id   TEXT,
	error        TEXT,
	seen_gen     INTEGER NOT NULL,        -- the import that last found this row in a CSV; runs send only these
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL,
	attempted_at TEXT,
	sent_at      TEXT
);

-- One record per person per campaign; invalid and duplicate rows are
-- derived from the CSV and may repeat an identity.
CREATE UNIQUE INDEX IF NOT EXISTS contacts_identity
	ON contacts (campaign_id, contact) WHERE state NOT IN ('invalid', 'duplicate');
-- Invalid rows by line: a row of an export fed back replaces the one it was
-- exported from. Partial, so importing valid rows does not pay for it.
CREATE INDEX IF NOT EXISTS contacts_invalid_line ON contacts (campaign_id, line) WHERE state = 'invalid';

CREATE TABLE IF NOT EXISTS runs (
	id          INTEGER PRIMARY KEY,
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
	host        TEXT NOT NULL,
	pid         INTEGER NOT NULL,
	flags       TEXT NOT NULL,            -- the options that matter, as JSON
	started_at  TEXT NOT NULL,
	ended_at    TEXT,
	sent        INTEGER NOT NULL DEFAULT 0,
	failed      INTEGER NOT NULL DEFAULT 0,
	unknown     INTEGER NOT NULL DEFAULT 0,
	rate        REAL,                     -- requests per second achieved
	ended_by    TEXT,                     -- finished, interrupted, deadline, token rejected, error
	exit_code   INTEGER
);
