// Package kintone is a small client for the Kintone REST API, enough for
// syncd to write one record per analysed call into a customer's Kintone app
// ("Kintone mode") with an app API token.
//
// # Getting started
//
// A [Client] talks to one app of one Kintone environment:
//
//	client, err := kintone.NewClient(&kintone.Config{
//		BaseURL:  "https://example.cybozu.com",
//		AppID:    42,
//		APIToken: crm.Secret(token), // from the tenant's encrypted settings
//		Logger:   logger,
//	})
//
// Its methods map one to one onto Kintone REST API calls:
//
//	Add       POST /k/v1/record.json           create one record
//	Update    PUT  /k/v1/record.json           change a record by ID
//	Upsert    PUT  /k/v1/records.json          update-or-create by a unique key field
//	AddMany   POST /k/v1/records.json          create up to 100 records, all or nothing
//	FindIDs   GET  /k/v1/records.json          IDs of records where field = "value"
//	Fields    GET  /k/v1/app/form/fields.json  the app's form, for checking settings
//
// Every request carries the token in the X-Cybozu-API-Token header, is
// bounded by [Config.Timeout], and is reported to [Config.OnRequest] for
// metrics. The client does not retry: the caller (a River job) decides with
// [Classify].
//
// # Never two records for one call
//
// Give the app a SINGLE_LINE_TEXT field with "Prohibit duplicate values" on
// (syncd uses call_id) and write with [Client.Upsert]:
//
//	id, created, err := client.Upsert(ctx, "call_id", callID, kintone.Record{
//		"call_date":        "2025-04-01",
//		"duration_seconds": 312,
//		"summary":          summary,
//	})
//
// Upsert is one request (Update Records in upsert mode) and is idempotent:
// repeating it after a lost response, a crash or a re-analysis updates the
// same record. [Client.Add] and [Client.AddMany] are not idempotent; use them
// only when something else guarantees uniqueness. A caller that stored a
// record ID can [Client.Update] by ID and, when [IsNotFound] says the record
// was deleted in Kintone, upsert again.
//
// # Errors
//
// Failed responses are [*APIError] values carrying Kintone's code, message
// and per-field messages. [Classify] turns any error into a [crm.Class], what
// to do:
//
//	crm.ClassRetryable    network error, timeout, 5xx, database lock  → retry with backoff
//	crm.ClassRateLimited  HTTP 429 (GAIA_TO04), too many cursors       → pause the tenant
//	crm.ClassAuth         bad or revoked token, no permission, no app  → needs an administrator
//	crm.ClassData         CB_VA01 validation, bad JSON value, no record → fail the record
//
// Kintone's messages can quote the rejected value, which is call content.
// Store [APIError.Error] for the tenant, but log errors through slog, where
// [APIError.LogValue] keeps only the operation, status, code and field codes.
//
// # Secrets
//
// The API token is only ever written into the X-Cybozu-API-Token header. It
// is not in any error string (the client also scrubs it from anything a
// server echoes back), not in logs, and [Config] and [Client] print it as
// "[REDACTED]" whatever the fmt verb. Redirects are never followed, and
// [ValidateBaseURL] accepts only Kintone's own domains, so the token cannot
// be lured to another host.
//
// # Testing
//
// Package kintonetest is an in-memory Kintone that enforces the behaviour
// documented below. Point a client at it with AllowInsecureLoopback:
//
//	srv := kintonetest.NewServer()
//	defer srv.Close()
//	app := srv.AddApp("acme", kintonetest.AppConfig{APIToken: "test-token"})
//	client, err := kintone.NewClient(&kintone.Config{
//		BaseURL: app.URL(), AppID: app.ID(), APIToken: "test-token",
//		AllowInsecureLoopback: true,
//	})
//
// # What was checked against Kintone
//
// These facts come from Cybozu's documentation (kintone.dev, cybozu.dev,
// the Kintone help sites) or from projects that test against real Kintone;
// the client and kintonetest rely on them.
//
//   - Domains. Environments live at https://{subdomain}.cybozu.com (Japan),
//     {subdomain}.kintone.com (US) and {subdomain}.cybozu.cn (China): the
//     Kintone help sites show API-token requests to example.cybozu.com,
//     example.kintone.com and example.cybozu.cn (get.kintone.help,
//     help.cybozu.cn "Generating API Tokens"). Secure Access (client
//     certificates) inserts ".s": https://example.s.cybozu.com
//     (jp.cybozu.help "セキュアアクセスとは"). The ".s." forms of kintone.com
//     and cybozu.cn are accepted by analogy; they were not found in a
//     document.
//   - Authentication. An app API token goes in X-Cybozu-API-Token; several
//     tokens may be comma-separated (help sites above; cybozu.dev "kintone
//     REST APIの共通仕様"). A token of another app, or an unknown token,
//     answers HTTP 400 GAIA_IA02 (measured on a live environment in 2026 per
//     a Terraform provider's notes; older cli-kintone tests recorded 520 for
//     the same code); a token without the permission answers 403 GAIA_NO01;
//     the same app's token twice answers 400 GAIA_DA03 (kintone/cli-kintone
//     features/import.feature). An unknown app ID answers 404 GAIA_AP01
//     (cli-kintone export tests).
//   - Errors are JSON {"id", "code", "message"} (cybozu.dev common spec),
//     plus "errors" {"record.CODE.value": {"messages": [...]}} for
//     validation failures, "records[i].CODE.value" in bulk requests
//     (kintone/js-sdk KintoneRestAPIError; the tests of a Ruby Kintone gem).
//     CB_VA01 is "Missing or invalid input." with HTTP 400 (cli-kintone);
//     its per-field messages "Required.", "This value already exists in
//     another record." (unique violation) and "Only numbers are allowed."
//     (keyed "record[CODE].value") come from SonicGarden/kintone-emulator,
//     whose suites run against real Kintone. CB_IJ01 "Invalid JSON string"
//     answers a value of the wrong JSON shape.
//   - Add Record returns {"id", "revision"} as strings; field codes the app
//     does not have are ignored, not rejected (kintone.dev "Add Record";
//     cybozu.dev common spec: "存在しないフィールドコードは無視されて処理されます").
//   - Add Records and Update Records take at most 100 records; Add Records
//     adds them in request order, returns ids in that order, and if it fails
//     no record is added (kintone.dev "Add Records"); Update Records likewise
//     fails whole (kintone.dev "Update Records": "all records will not be
//     updated").
//   - Update Record takes an id or an updateKey, not both; updateKey must
//     name a SINGLE_LINE_TEXT or NUMBER field with "Prohibit duplicate
//     values" (kintone.dev "Update Record"; cybozu.dev "複数のレコードを更新する").
//     A missing id answers 404 GAIA_RE01; a missing updateKey answers 404
//     GAIA_RE20 (kintone-labs/cli-kintone issue 27).
//   - Upsert mode: Update Records accepts "upsert": true; a missing id or
//     updateKey then creates the record, and each result carries
//     "operation": "INSERT" or "UPDATE". It needs add permission too
//     (cybozu.dev "複数のレコードを更新する", announced 2025-03-18). Update
//     Record (record.json) has no upsert mode, hence PUT records.json with a
//     single record.
//   - Get Records: query strings quote text in double quotes and escape with
//     a backslash (kintone.dev overview "Escape sequence: \"); limit is at
//     most 500 (default 100), offset at most 10,000 (cybozu.dev "複数のレコードを
//     取得する"); violations answer GAIA_QU01 and GAIA_QU02, an unknown field
//     GAIA_IQ11, an operator the field type lacks GAIA_IQ03, and single quotes
//     CB_VA01 (kintone-emulator, verified against Kintone). Without "order
//     by", records come newest first (kintone-emulator).
//   - Get Form Fields returns properties.{code} with "required" and "unique"
//     as booleans and "maxLength" as a string, "" for none (kintone.dev "Get
//     Form Fields"; kintone/js-sdk property.ts).
//   - Dates and datetimes: DATE takes YYYY-MM-DD (also YYYY, YYYY-MM, YYYY-M-D,
//     padded); DATETIME takes YYYY-MM-DDTHH:MM:SSZ or an offset ±HH:MM,
//     seconds are dropped, and responses are in UTC (cybozu.dev common spec;
//     kintone.dev overview).
//   - Limits: 100 concurrent requests per domain, reported in the
//     X-ConcurrencyLimit-Limit and X-ConcurrencyLimit-Running response
//     headers; beyond it HTTP 429 (kintone.dev "How to Avoid Kintone REST
//     API limits"), with code GAIA_TO04 and an X-Cybozu-Error header
//     (kintone-emulator). 10,000 requests per app per day on the standard
//     plan (cybozu.dev common spec). Too many cursors answers 429 GAIA_TM12.
//   - Retryable codes: GAIA_RE18 and GAIA_DA02, "the database lock failed,
//     try again later" (embulk-output-kintone retries exactly these).
//
// Not found in any source, and so chosen here: the answer to a request with
// no token at all (kintonetest sends 401 CB_AU01, the code Kintone uses for
// "not logged in"), the code for an updateKey on a field that is not unique
// (kintonetest sends CB_VA01), the exact English texts of some per-field
// messages, and whether Kintone counts SINGLE_LINE_TEXT length in characters
// or UTF-16 units (kintonetest counts UTF-16 units, the stricter reading).
package kintone
