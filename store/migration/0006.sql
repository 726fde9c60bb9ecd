-- Ledger format 6: when a campaign's destination moved (send
-- -allow-changed after some of its contacts were acted on at the old
-- address), the time of the move. A contact left unknown by a request to
-- the old address can be found at the new one (the platform moved), but
-- the new one's list cannot prove it absent: the message may sit where
-- the request went. Reconciliation reads this to leave such a contact
-- unknown rather than send it again. NULL: the destination never moved.
ALTER TABLE campaigns ADD COLUMN moved_at TEXT;
