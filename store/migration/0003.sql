-- PLACEHOLDER, not a ledger format: format 3 is being added on another
-- branch (issue 11, indexes). It is here only because loadMigrations
-- refuses a gap, and format 4 (0004.sql) is written on this branch.
-- When merging, take the other branch's 0003.sql over this file; a pregon
-- built with this file would stamp ledgers at format 3 without that
-- format's changes.
SELECT 1;
