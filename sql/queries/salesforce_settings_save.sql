-- SaveSalesforceSettings: store tenant $1's Salesforce settings. $2
-- enabled, $3 instance URL, $4 client ID, $5 the sealed client secret (NULL
-- keeps the stored one), $6 object type, $7 external ID field (NULL for
-- none), $8 who saved. The call matching settings, NULL to keep the stored
-- value (off, none or unset for new settings): $9 link_who, $10
-- assign_owner, $11 phone_fields, $12 who_field and $13 owner_field ('' to
-- unset).
--
-- Saving clears the attention mark and moves updated_at, the settings
-- version.
INSERT INTO salesforce_settings
    (tenant_id, enabled, instance_url, client_id, client_secret_encrypted, object_type, external_id_field, updated_by,
     link_who, assign_owner, phone_fields, who_field, owner_field)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
    coalesce($9, false), coalesce($10, false), coalesce($11::text[], '{}'), nullif($12, ''), nullif($13, ''))
ON CONFLICT (tenant_id) DO UPDATE SET
    enabled                 = excluded.enabled,
    instance_url            = excluded.instance_url,
    client_id               = excluded.client_id,
    client_secret_encrypted = coalesce(excluded.client_secret_encrypted, salesforce_settings.client_secret_encrypted),
    object_type             = excluded.object_type,
    external_id_field       = excluded.external_id_field,
    link_who                = coalesce($9, salesforce_settings.link_who),
    assign_owner            = coalesce($10, salesforce_settings.assign_owner),
    phone_fields            = coalesce($11::text[], salesforce_settings.phone_fields),
    who_field               = CASE WHEN $12::text IS NULL THEN salesforce_settings.who_field ELSE nullif($12, '') END,
    owner_field             = CASE WHEN $13::text IS NULL THEN salesforce_settings.owner_field ELSE nullif($13, '') END,
    attention               = NULL,
    attention_at            = NULL,
    updated_at              = now(),
    updated_by              = excluded.updated_by;
