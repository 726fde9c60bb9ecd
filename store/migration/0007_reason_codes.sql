-- Ledger format 7: why a contact was not sent, as a code and its values.
--
-- reason holds campaign.Reason as JSON ({"code":"not_phone","column":
-- "Teléfono","value":"12"}), which status, export and the report put in
-- their reader's language. error keeps what older formats wrote there,
-- English prose, shown as it is; rows written from this format on leave
-- it NULL. The platform's own words stay verbatim inside the reason's
-- values (a refusal's "Contact has opted out").
ALTER TABLE contacts ADD COLUMN reason TEXT;
