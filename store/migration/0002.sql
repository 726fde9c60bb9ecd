-- Ledger format 2: each campaign records where its messages go, so that a
-- rehearsal against a local fake and the real send never share the states
-- of one campaign (the rehearsal's "sent" would make the real run skip
-- everyone).
--
-- campaigns.sandbox keeps its column and widens its meaning: 1 when the
-- campaign is a rehearsal, against the built-in sandbox (send -sandbox) or
-- against an address that answered as a pregon sandbox.

-- "v1" or "v2"; NULL for campaigns registered before format 2, which adopt
-- the destination of their next run.
ALTER TABLE campaigns ADD COLUMN api TEXT;
-- scheme://host[:port][/path], never a token, user info or query; '' for
-- the built-in sandbox, whose address changes every run; NULL before
-- format 2.
ALTER TABLE campaigns ADD COLUMN base_url TEXT;
