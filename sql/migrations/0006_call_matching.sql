-- syncd schema version 6: calls linked to the people and owners they belong
-- to (SPEC §5.6).
--
-- A tenant's default_region (ISO 3166-1 alpha-2, "JP") reads phone numbers
-- written without a country code; '' when unset.
ALTER TABLE tenants
    ADD COLUMN default_region text NOT NULL DEFAULT '' CHECK (default_region ~ '^([A-Z]{2})?$');

-- Matching is off by default. link_who links a call to the Contact, else
-- the open Lead, on its customer_phone (Phone, MobilePhone and the
-- phone_fields listed: "Field__c" on both objects, "Contact.Field__c" or
-- "Lead.Field__c" on one); assign_owner makes the active User whose Email
-- is agent_email the owner. who_field and owner_field are the lookup fields
-- of a custom object that take them (Task uses WhoId and OwnerId).
ALTER TABLE salesforce_settings
    ADD COLUMN link_who     boolean NOT NULL DEFAULT false,
    ADD COLUMN assign_owner boolean NOT NULL DEFAULT false,
    ADD COLUMN phone_fields text[] NOT NULL DEFAULT '{}' CHECK (cardinality(phone_fields) <= 5),
    ADD COLUMN who_field    text CHECK (who_field IS NULL OR who_field ~ '^[A-Za-z][A-Za-z0-9_]*__c$'),
    ADD COLUMN owner_field  text CHECK (owner_field IS NULL OR owner_field ~ '^[A-Za-z][A-Za-z0-9_]*__c$');

-- What the last push found and set. who_id and who_type (Contact or Lead)
-- are the record syncd linked the call to, owner_id the owner it set when
-- it created the record: syncd never sends them again over a person's
-- change. match is the last match's result: matched, ambiguous:N (N
-- records had the number; the newest won), none, invalid_number, off or
-- error; owner_note says why a create left the default owner (no_user,
-- inactive_user, no_agent_email, error).
ALTER TABLE sync_records
    ADD COLUMN who_id     text,
    ADD COLUMN who_type   text,
    ADD COLUMN match      text,
    ADD COLUMN owner_id   text,
    ADD COLUMN owner_note text;
