-- Ledger format 7: why a contact was not sent, as a code and its values.
--
-- reason holds campaign.Reason as JSON ({"code":"not_phone","column":
-- "Teléfono","value":"12"}), which status, export and the report put in
-- their reader's language. error keeps what older formats wrote there,
-- English prose, shown as it is; rows written from this format on leave
-- it NULL. The platform's own words stay verbatim inside the reason's
-- values (a refusal's "Contact has opted out").
ALTER TABLE contacts ADD COLUMN reason TEXT;

-- Three reasons older formats wrote as fixed sentences become their codes,
-- so they read in the reader's language too.
UPDATE contacts SET reason = '{"code":"in_flight"}', error = NULL
	WHERE reason IS NULL AND error = 'the run stopped while this message was in flight: it may or may not have been delivered';
UPDATE contacts SET reason = '{"code":"found_on_platform"}', error = NULL
	WHERE reason IS NULL AND error = 'found on the platform after the answer was lost';
UPDATE contacts SET reason = '{"code":"not_on_platform"}', error = NULL
	WHERE reason IS NULL AND error = 'not on the platform: the lost request never arrived, so the next run sends it';
