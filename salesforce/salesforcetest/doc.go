// Package salesforcetest is an in-memory Salesforce for tests and demos: an
// HTTP server on a loopback address that behaves like the parts of the
// Salesforce REST API that package
// [github.com/koeiq/syncd/salesforce] uses, closely enough that passing
// against it should mean passing against a real org.
//
// # Orgs
//
// One [Server] serves any number of orgs, each under its own base URL,
// Server.URL() + "/org/" + name, with its own client credentials, tokens,
// objects, records, daily API limit, latency, faults and request counts:
//
//	srv := salesforcetest.NewServer()
//	defer srv.Close()
//	org := srv.AddOrg("acme", salesforcetest.OrgConfig{
//		ClientID:     "id",
//		ClientSecret: "secret",
//		Objects:      []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")},
//	})
//	client, err := salesforce.NewClient(&salesforce.Config{
//		InstanceURL:           org.URL(),
//		ClientID:              "id",
//		ClientSecret:          "secret",
//		AllowInsecureLoopback: true,
//	})
//
// # What is enforced
//
//   - The client credentials token endpoint, POST /services/oauth2/token, with
//     credentials in the form or in Basic auth: a wrong secret answers
//     400 invalid_client, an unknown client ID invalid_client_id, another
//     grant type unsupported_grant_type. The response has no expires_in, and
//     its instance_url is the org's URL.
//   - Opaque bearer tokens, per org, that [Org.ExpireTokens] invalidates
//     (401 INVALID_SESSION_ID).
//   - Only API version [salesforce.APIVersion]; GET /services/data/ lists it
//     without authentication.
//   - 18-character record IDs with the object's key prefix (00T for Task,
//     003 Contact, 00Q Lead, 005 User) and the case-safe checksum suffix;
//     15-character IDs are accepted.
//   - The standard objects every org has, with Salesforce's field names,
//     types and lengths: Task, Contact, Lead and User ([TaskObject],
//     [ContactObject], [LeadObject], [UserObject]). The org's integration
//     user ([Org.UserID]) is an active User record from the start. An
//     [ObjectDef] of the same name in OrgConfig.Objects replaces a standard
//     object, for example a Contact with a custom phone field.
//   - Objects and their fields, case-insensitively ([TaskObject],
//     [CustomCallObject], or your own [ObjectDef]): unknown field →
//     INVALID_FIELD, a value of the wrong JSON type or a bad date →
//     JSON_PARSER_ERROR, text longer than the field in UTF-16 units →
//     STRING_TOO_LONG (quoting the value), restricted picklist →
//     INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, read-only field →
//     INVALID_FIELD_FOR_INSERT_UPDATE, required field missing →
//     REQUIRED_FIELD_MISSING, an email field's value that is no address →
//     INVALID_EMAIL_ADDRESS, a unique value taken → DUPLICATE_VALUE, Id in
//     the body → INVALID_FIELD, unknown object → 404 NOT_FOUND.
//   - Datetimes are stored and answered as Salesforce answers them, in UTC
//     with milliseconds: 2026-01-15T10:04:05.000+0000, whatever offset they
//     were written with. CreatedDate and LastModifiedDate are the server's
//     (LastModifiedDate changes with every update), except that
//     [Org.PutRecord] may set them.
//   - References, where a field's [FieldDef.ReferenceTo] names its targets
//     (Task.WhoId: Contact or Lead; every object's OwnerId: User): a create,
//     update or upsert, single or in a collection, that writes an ID of
//     another object fails with FIELD_INTEGRITY_EXCEPTION ("Name ID: id
//     value of incorrect type: ...", fields [WhoId]); one of a record in the
//     recycle bin with ENTITY_IS_DELETED; one purged or never there with
//     INVALID_CROSS_REFERENCE_KEY ("invalid cross reference id"); an OwnerId
//     naming an inactive User with INACTIVE_OWNER_OR_USER ("operation
//     performed with inactive user [005...] as owner of task", the user's
//     15-character ID). The last three name no field, as Salesforce's
//     answers do as far as is known; and, as in Salesforce, an update of a
//     record whose owner is inactive fails even if it leaves OwnerId alone.
//     Per record in a collection, a 400 otherwise.
//   - Validation rules, as an admin defines them ([Org.AddValidationRule]:
//     a text field contains a string): a create, update or upsert, single or
//     in a collection, whose record as it would be after the save (the
//     merged record of an update) makes a rule fire is not saved and fails
//     with FIELD_CUSTOM_VALIDATION_EXCEPTION, the rule's message and fields
//     [ErrorField] or []; every rule that fires reports. As in Salesforce's
//     order of execution, rules run after the field checks above (required
//     fields included) and before DUPLICATE_VALUE. [Org.PutRecord] is not
//     checked.
//   - Create (201), update by ID (204; ENTITY_IS_DELETED for a record in the
//     recycle bin, NOT_FOUND once purged), retrieve and delete by ID, upsert
//     by external ID (201 created, 200 updated, 300 when several records
//     match, 404 when the field is not an external ID), describe.
//   - sObject Collections create, update by ID and upsert: at most 200
//     records (EXCEEDED_ID_LIMIT); every record needs attributes.type
//     (INVALID_TYPE); problems reading a record (unknown field, wrong JSON
//     type) fail the whole request with 400, save errors come back per record
//     with statusCode in a 200; allOrNone rolls back. An update's records
//     carry their "id" and may be of several types, as in Salesforce. Its
//     per-record errors for the ID follow Salesforce's SaveResults:
//     MISSING_ARGUMENT without an id, MALFORMED_ID (fields [Id]) for an ID of
//     another object, ENTITY_IS_DELETED for a record in the recycle bin,
//     INVALID_CROSS_REFERENCE_KEY for one that was purged or never existed
//     (the last from Apex DML, unconfirmed for REST). Two guesses: an id that
//     is not an ID at all is a per-record MALFORMED_ID (Salesforce may refuse
//     the whole request), and an ID sent twice fails the whole request with
//     400 INVALID_FIELD "Duplicate id in list" (Apex's wording).
//   - A SOQL subset: SELECT fields FROM object [WHERE condition]
//     [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]. A condition
//     is a comparison (=, !=, <>, <, <=, >, >=, IN (...), NOT IN (...)) or
//     parenthesised conditions and comparisons joined all by AND or all by
//     OR: mixing AND and OR without parentheses is MALFORMED_QUERY, as
//     Salesforce requires them. Literals are strings (SOQL's escapes),
//     numbers, dates, datetimes (compared by instant), true, false, null;
//     strings compare case-insensitively; ORDER BY sorts nulls first
//     ascending and last descending. Long text fields can be neither
//     filtered nor sorted (INVALID_FIELD). A statement longer than 100,000
//     characters is MALFORMED_QUERY ("SOQL statements can not be longer than
//     100000 characters."). Results come in pages of
//     OrgConfig.QueryBatchSize records with nextRecordsUrl. Anything else is
//     MALFORMED_QUERY.
//   - Composite, POST /services/data/vXX.X/composite, for GET subrequests:
//     queries, further pages of a query (its nextRecordsUrl), retrieve and
//     describe. The answer is 200 {"compositeResponse": [...]} with one
//     {"body", "httpHeaders": {}, "httpStatusCode", "referenceId"} per
//     subrequest, in order: a subrequest that fails (MALFORMED_QUERY,
//     INVALID_FIELD, NOT_FOUND, ...) has its error array as body and its
//     status, and the others still answer, unless allOrNone is true, when
//     they become 400 PROCESSING_HALTED. At most 25 subrequests, at most 5
//     of them queries: beyond, the one result is 400 LIMIT_EXCEEDED ("The
//     request can’t contain more than 25 operations.", Salesforce's words;
//     the wording for queries is a guess) with referenceId null. The whole
//     request is one API request: it counts once against the daily limit,
//     once in [Org.Requests] ("composite"), and latency and faults
//     (Fault.Op "composite") apply to it as a whole. A subrequest's URL
//     travels in the body, so a query in it may be longer than a URI may
//     (up to SOQL's 100,000 characters). Not simulated, and refused with a
//     400 INVALID_INPUT that says so: other methods than GET, and
//     references to earlier results (@{ref.id}); also 400 INVALID_INPUT (a
//     guessed code): a subrequest without method, url or referenceId, or
//     whose referenceId is not letters, digits and underscores or is used
//     twice.
//   - Sforce-Limit-Info: api-usage=USED/MAX on every API response. Each
//     authenticated API request counts one (not token requests, not the
//     versions list); once the daily limit is spent requests answer
//     403 REQUEST_LIMIT_EXCEEDED.
//
// # Record pages
//
// As in Salesforce, where {instance_url}/{record ID} opens the record in the
// browser, GET Org.URL() + "/" + id answers an HTML page of the record: the
// object's name, the record ID and a table of its fields and values in the
// object's field order. The ID is any 15- or 18-character record ID of any of
// the org's objects, read case-insensitively as elsewhere. A record in the
// recycle bin gets a page saying it was deleted, and an unknown or malformed
// ID a not-found page, both with status 404. The page is self-contained (no
// scripts, no external resources, a Content-Security-Policy that forbids
// them).
//
// Unlike Salesforce, where the browser's session cookie lets the user in,
// record pages are open: they need no token and no login, so anyone who can
// reach the server can read every record by its ID. They are not API
// requests: they do not count against the daily limit or in
// [Org.RequestCounts], and have no latency or faults. The address is only
// /{id}: API routes under /services/ are unchanged.
//
// # Faults
//
// [Org.InjectFault] queues failures for the next requests of an operation:
// 503s, lock errors, request-limit errors, expired sessions, latency, and
// dropped connections after the write happened (the client sees a network
// error, the record exists). [Org.SetLatency] slows every API request, and
// [Org.SetTokenError] makes the token endpoint refuse correct credentials
// (invalid_grant, ...).
//
// Like Salesforce, which goes on with a request after its client timed out or
// disconnected, the server performs every request it has read in full,
// latency included: only the answer is lost. A create abandoned by a client
// whose context ended still creates its record, counts against the limit and
// shows in the request counts. [Org.InFlight] drops to 0 once such requests
// are done; [Server.Close] performs them at once, cutting their latency
// short.
//
// # Observing
//
// [Org.Requests] and [Org.RequestCounts] count requests by operation, token
// requests included, so tests and benchmarks can assert how many calls were
// made (record pages are not requests to count); [Org.InFlight] and [Org.PeakInFlight] say how many API requests are
// served at once, now and at most; [Org.Records] and [Org.Record] show the
// data, and [Org.PutRecord] seeds it.
package salesforcetest
