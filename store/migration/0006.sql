-- Ledger format 6: when a campaign's destination moved (send
-- -allow-changed after some of its contacts were acted on at the old
-- address), the time of the move and the address it left. A contact left
-- unknown by a request to the old address can be found at the new one
-- (the platform moved), but the new one's list cannot prove it absent:
-- the message may sit where the request went. Reconciliation reads this
-- to leave such a contact unknown rather than send it again. NULL: the
-- destination never moved.
ALTER TABLE campaigns ADD COLUMN moved_at TEXT;
ALTER TABLE campaigns ADD COLUMN moved_from TEXT;

-- Campaigns of an older ledger may have moved already (format 2 let
-- -allow-changed move them) without a record of it: the start of their
-- last run with -allow-changed stands for the move. A run's start comes
-- after its own change of address, so every request to the old address is
-- older; a run that allowed only a change of message is counted too,
-- which can keep a contact unknown, never send one twice.
UPDATE campaigns SET moved_at = (
	SELECT max(r.started_at) FROM runs r
	WHERE r.campaign_id = campaigns.id AND json_valid(r.flags) AND json_extract(r.flags, '$.allow_changed') = 1);
