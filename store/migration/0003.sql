-- Ledger format 3: one record per contact, whatever file its rows come
-- from, and each record exported under its own file's columns.
--
-- A row without a contact (a bad or missing phone) is known by its file
-- and its content (row_key). A row fixed in a pregon export replaces the
-- very record it was exported from, and fixes remembers what that broken
-- row became: when the original file is read again, the same broken row
-- is the contact it was fixed into, not a new invalid row.

-- The column names of a CSV's header as written, as JSON: one row per
-- distinct header.
CREATE TABLE headers (
	id      INTEGER PRIMARY KEY,
	columns TEXT NOT NULL UNIQUE
);

-- The header the record's cells follow; NULL for records written before
-- format 3, which follow campaigns.legacy_header.
ALTER TABLE contacts ADD COLUMN header_id INTEGER REFERENCES headers(id);
-- Invalid records: a hash of the row's cells by column name
-- (campaign.Message.Key); with source, what a row is known by when it has
-- no contact. NULL for other records and for invalid ones written before
-- format 3.
ALTER TABLE contacts ADD COLUMN row_key TEXT;
CREATE INDEX contacts_row_key ON contacts (campaign_id, row_key) WHERE row_key IS NOT NULL;
-- A contact's invalid record, looked up by the contact: the unique index
-- on identity leaves invalid records out.
CREATE INDEX contacts_invalid_contact ON contacts (campaign_id, contact) WHERE state = 'invalid';

-- What campaigns.header was when the ledger reached format 3: the header
-- records without header_id are exported under, as they were before.
ALTER TABLE campaigns ADD COLUMN legacy_header TEXT;
UPDATE campaigns SET legacy_header = header;

-- A broken row (its file and row_key) that was fixed through an export
-- (through, the export's file name) and is now the record contact_id.
CREATE TABLE fixes (
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
	source      TEXT NOT NULL,
	row_key     TEXT NOT NULL,
	contact_id  INTEGER NOT NULL,
	through     TEXT NOT NULL,
	PRIMARY KEY (campaign_id, source, row_key)
);
CREATE INDEX fixes_contact ON fixes (contact_id);
