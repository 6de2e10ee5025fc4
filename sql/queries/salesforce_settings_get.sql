-- GetSalesforceSettings: tenant $1's Salesforce settings, the client
-- secret still sealed (no row when none are stored).
SELECT enabled, instance_url, client_id, client_secret_encrypted, object_type, external_id_field,
    coalesce(attention, ''), attention_at, updated_at, updated_by,
    link_who, assign_owner, phone_fields, coalesce(who_field, ''), coalesce(owner_field, '')
FROM salesforce_settings WHERE tenant_id = $1;
