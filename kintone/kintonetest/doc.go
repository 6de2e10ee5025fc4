// Package kintonetest is an in-memory Kintone for tests and demos: a real
// HTTP server on a loopback port that answers the Kintone REST API calls
// package kintone makes, with Kintone's status codes, error codes and
// validation rules.
//
// # Layout
//
// One [Server] hosts any number of Kintone domains, each at
// /org/{base} on the server, and each domain any number of apps:
//
//	srv := kintonetest.NewServer()
//	defer srv.Close()
//	acme := srv.AddApp("acme", kintonetest.AppConfig{APIToken: "acme-token"})
//	// acme.URL() is http://127.0.0.1:PORT/org/acme; the API is below it,
//	// at /org/acme/k/v1/record.json and so on.
//
// Use App.URL as kintone.Config.BaseURL with AllowInsecureLoopback. An app
// defaults to the form syncd writes, [CallApp]; AppConfig.Fields sets
// another.
//
// # What it enforces
//
//   - Authentication: X-Cybozu-API-Token is required (401 CB_AU01 without
//     it). Every token in it must be a token of an app in the same domain,
//     else 400 GAIA_IA02, and one must be the requested app's, else 400
//     GAIA_IA02; the same app's token twice is 400 GAIA_DA03. An unknown
//     app ID is 404 GAIA_AP01. [App.SetAPIToken] rotates a token.
//   - Values: each field value must be {"value": ...} with a string (or
//     number) for single-value fields and a list of strings for check box
//     and multi-select, else 400 CB_IJ01. Field codes the app does not have
//     are ignored, as Kintone ignores them.
//   - Validation, 400 CB_VA01 with per-field "errors": required fields,
//     numbers (keyed "record[CODE].value"), dates (YYYY-MM-DD and Kintone's
//     shorter forms), datetimes (RFC 3339 with Z or an offset, or a bare
//     date; stored in UTC without seconds), drop-down and radio options, link
//     URLs, SINGLE_LINE_TEXT and LINK maximum length (in UTF-16 units),
//     uniqueness. Bulk requests key errors "records[i]...".
//   - Records: IDs and revisions are strings; IDs count up from 1 per app,
//     revisions from 1 per record. Update Record merges the given fields and
//     returns {"revision"}; a missing ID is 404 GAIA_RE01, a missing
//     updateKey 404 GAIA_RE20, an updateKey on a field that is not a unique
//     text or number field 400 CB_VA01, a stale revision 409 GAIA_CO02.
//   - Update Records with "upsert": true creates what it cannot find (with
//     the updateKey field set) and reports "operation" INSERT or UPDATE;
//     AppConfig.NoUpsertMode makes the server ignore the flag, like a Kintone
//     from before upsert mode.
//   - Bulk requests take at most 100 records and apply all or nothing.
//   - Get Records queries: field = != < > <= >= "value", in (...),
//     not in, like, is empty, and/or, parentheses, order by, limit (at most
//     500, GAIA_QU01) and offset (at most 10,000, GAIA_QU02); "$id" and the
//     Record_number field; backslash escapes in double-quoted strings. An
//     unknown field is 400 GAIA_IQ11, an operator the field type lacks 400
//     GAIA_IQ03, a syntax error (single quotes included) 400 CB_VA01.
//     Without order by, newest first.
//   - Get Form Fields: properties with type, code, label, required, unique,
//     maxLength ("" for none) and options, plus the Record_number field.
//
// Every response carries X-ConcurrencyLimit-Limit (100) and
// X-ConcurrencyLimit-Running. Each request runs under one lock, so the server
// is safe for concurrent use and every write is atomic.
//
// # Faults
//
// [App.InjectFault] makes the next matching requests fail: 503 from a load
// balancer, 429 GAIA_TO04, 520 GAIA_RE18 (database lock), a dropped
// connection after the write committed, or extra latency. AppConfig.Latency
// slows every response. [App.Requests] counts requests by kind, so tests can
// assert how many calls a code path makes.
//
// See package kintone's documentation for the sources of these behaviours.
package kintonetest
