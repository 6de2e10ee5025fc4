// Package salesforce is a small client for the Salesforce REST API, made for
// pushing records into customers' orgs server to server, reliably and without
// leaking secrets.
//
// # Authentication
//
// A [Client] authenticates with the OAuth 2.0 client credentials flow
// (RFC 6749 §4.4), using the consumer key and secret of the org's External
// Client App, against the org's My Domain:
//
//	POST {InstanceURL}/services/oauth2/token
//	grant_type=client_credentials&client_id=...&client_secret=...
//
// Salesforce's token response has no expires_in and no refresh token, so the
// Client caches its token and uses it until Salesforce answers
// 401 INVALID_SESSION_ID; then it gets a new token, once for all the calls
// that were refused at the same time, and retries each refused call once.
// API calls go to the instance_url of the token response, which is checked
// like [Config.InstanceURL].
//
// Make one Client per org (per tenant) and keep it. It is safe for concurrent
// use. A token request runs on a goroutine of the Client, so that a caller
// giving up does not fail the others waiting for it; [Client.Close] ends it
// and waits for it, so close a Client when done with it.
//
//	c, err := salesforce.NewClient(&salesforce.Config{
//		InstanceURL:  "https://acme.my.salesforce.com",
//		ClientID:     clientID,
//		ClientSecret: crm.Secret(clientSecret),
//	})
//	if err != nil {
//		return err // the URL is not a My Domain, a credential is empty, ...
//	}
//	defer c.Close()
//	if err := c.CheckCredentials(ctx); err != nil {
//		return err // salesforce.Classify(err) == crm.ClassAuth: wrong credentials
//	}
//
// # Instance URLs
//
// [ValidateInstanceURL] accepts only https My Domain hosts such as
// acme.my.salesforce.com or acme--uat.sandbox.my.salesforce.com, so that the
// secret cannot be sent to an arbitrary server; login.salesforce.com and
// test.salesforce.com are refused because the client credentials flow does
// not work there. [Config.AllowInsecureLoopback] also admits
// http://127.0.0.1:PORT/optional/path and http://localhost:PORT/..., for tests
// and demos; every Salesforce path is appended to that base. The Client never
// follows redirects.
//
// # Operations
//
// Every call uses the API version [APIVersion] and counts as one API request
// against the org's daily allocation:
//
//   - [Client.Create]: one record (POST /sobjects/{type}/).
//   - [Client.Update]: one record by ID (PATCH /sobjects/{type}/{id}).
//   - [Client.Upsert]: one record by external ID, created or updated
//     (PATCH /sobjects/{type}/{field}/{value}).
//   - [Client.Query]: SOQL, all pages; quote string values with [QuoteSOQL].
//   - [Client.QueryMany]: up to [MaxQueryMany] SOQL queries in one Composite
//     request (POST /composite), one API request for all of them (further
//     pages of a big result are fetched as Query does, one request each).
//   - [Client.Describe]: an object's fields, types, lengths and permissions.
//   - [Client.CreateMany], [Client.UpdateMany] (by ID) and
//     [Client.UpsertMany]: up to [MaxCollectionSize] records in one request
//     (sObject Collections), with a [Result] per record.
//
// # Idempotency
//
// A create whose response is lost (a dropped connection, a timeout) may have
// created the record, and creating it again makes a duplicate: Salesforce's
// REST create has no idempotency key. Write with [Client.Upsert] or
// [Client.UpsertMany] on an external ID field marked Unique whenever the org
// has one; otherwise look the record up with [Client.Query] before creating
// it again.
//
// # Errors
//
// Salesforce's answers that are not successes are returned as [*APIError],
// carrying the HTTP status, Salesforce's errorCode (or the OAuth error),
// message and fields. [Classify] sorts every error into a [crm.Class], what a
// caller should do:
//
//   - [crm.ClassRetryable]: network errors, timeouts, 5xx, 429,
//     UNABLE_TO_LOCK_ROW, SERVER_UNAVAILABLE: retry with backoff.
//   - [crm.ClassRateLimited]: REQUEST_LIMIT_EXCEEDED: pause the tenant.
//   - [crm.ClassAuth]: invalid_client, invalid_grant, ... : the tenant's
//     settings need attention; every call will fail until they are fixed.
//   - [crm.ClassData]: STRING_TOO_LONG, INVALID_FIELD, REQUIRED_FIELD_MISSING,
//     NOT_FOUND, ...: this record will never be accepted as sent.
//
// The per-record errors of sObject Collections are [RecordError]s, with their
// own [RecordError.Class]; [Result.Err] returns a failed record's errors as a
// [*SaveError], which [Classify] understands. [Result.Deleted] tells a record
// of [Client.UpdateMany] deleted in Salesforce, as [IsDeleted] does for
// [Client.Update].
//
// # Secrets and call content
//
// The client secret and access tokens never appear in log lines, error
// strings or the formatting of a [Config] or [Client]. Salesforce's error
// messages can quote the rejected value, which is call content: they are in
// [APIError.Message] and [APIError.Error], to be stored for the tenant, but an
// APIError logged as a value (slog.Any("error", err)) shows only its op,
// status, code and fields (see [APIError.LogValue]).
//
// # API usage
//
// Every response carries Sforce-Limit-Info: api-usage=USED/MAX, the org's use
// of its daily allocation. [Client.APIUsage] returns the last one seen, so
// callers can slow down long before the allocation is spent.
//
// # Testing
//
// Package [github.com/koeiq/syncd/salesforce/salesforcetest] is an in-memory
// Salesforce with orgs, tokens, objects, records, limits and injectable
// faults, served on a loopback address: point a Client at an org's URL with
// AllowInsecureLoopback.
package salesforce
