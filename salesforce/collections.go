package salesforce

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/koeiq/syncd/crm"
)

// MaxCollectionSize is the most records an sObject Collections request may
// carry.
const MaxCollectionSize = 200

// Result is the outcome for one record of an sObject Collections request.
type Result struct {
	// ID is the record's ID (18 characters); "" when the record failed.
	ID string `json:"id"`
	// Success is true when the record was saved.
	Success bool `json:"success"`
	// Created is true when an upsert created the record (always false for
	// the results of CreateMany, which are all creations, and of UpdateMany).
	Created bool `json:"created"`
	// Errors says why the record was not saved.
	Errors []RecordError `json:"errors"`
}

// Deleted reports whether the record failed because the record its ID
// addresses does not exist any more, the per-record counterpart of
// [IsDeleted] for [Client.UpdateMany]: ENTITY_IS_DELETED (in the recycle
// bin) or INVALID_CROSS_REFERENCE_KEY (purged, or never there), about no
// field but Id. Create the record again, as after [IsDeleted].
//
// Salesforce answers the same codes when a reference field such as WhoId or
// WhatId names a deleted or unknown record; such an error names the field
// when Salesforce says which, and then Deleted is false. When it names none
// and the update set reference fields, confirm with a query before creating
// a second record.
func (r Result) Deleted() bool {
	if r.Success {
		return false
	}
	return slices.ContainsFunc(r.Errors, func(e RecordError) bool {
		switch e.StatusCode {
		case "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY":
		default:
			return false
		}
		return !slices.ContainsFunc(e.Fields, func(f string) bool { return !strings.EqualFold(f, "Id") })
	})
}

// RecordError is a per-record error of an sObject Collections request. Unlike
// the top-level errors of [APIError], its code is called statusCode. Message
// can quote call content: store it, do not log it.
type RecordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// Err returns nil for a saved record, and for one that was not saved a
// [*SaveError] holding its Errors.
func (r Result) Err() error {
	if r.Success {
		return nil
	}
	return &SaveError{Errors: r.Errors}
}

// SaveError is Salesforce's refusal of one record of an sObject Collections
// request, as [Result.Err] returns it. [Classify] classifies it by its first
// error; one without errors is retryable.
//
// Like [APIError], its Error string includes the messages, which can quote
// call content: store it for the tenant, but log the value itself (see
// [SaveError.LogValue]).
type SaveError struct {
	// Errors are the record's errors, as Salesforce answered them.
	Errors []RecordError
}

// Error returns "salesforce: save: CODE: message (fields: F, ...)" for each
// error, joined by "; ".
func (e *SaveError) Error() string {
	if len(e.Errors) == 0 {
		return "salesforce: save: the record failed without an error"
	}
	parts := make([]string, len(e.Errors))
	for i, re := range e.Errors {
		parts[i] = re.StatusCode + ": " + re.Message
		if len(re.Fields) > 0 {
			parts[i] += " (fields: " + strings.Join(re.Fields, ", ") + ")"
		}
	}
	return "salesforce: save: " + strings.Join(parts, "; ")
}

// LogValue implements [slog.LogValuer]: the error codes, fields and class,
// but never the messages, which can quote call content.
func (e *SaveError) LogValue() slog.Value {
	codes := make([]string, len(e.Errors))
	var fields []string
	for i, re := range e.Errors {
		codes[i] = re.StatusCode
		fields = append(fields, re.Fields...)
	}
	attrs := []slog.Attr{slog.String("op", "save"), slog.String("code", strings.Join(codes, ","))}
	if len(fields) > 0 {
		attrs = append(attrs, slog.String("fields", strings.Join(fields, ",")))
	}
	attrs = append(attrs, slog.String("class", e.class().String()))
	return slog.GroupValue(attrs...)
}

func (e *SaveError) class() crm.Class {
	if len(e.Errors) == 0 {
		return crm.ClassRetryable // no reason given: nothing says the record is at fault
	}
	return e.Errors[0].Class()
}

type collectionRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// CreateMany creates up to [MaxCollectionSize] records of one object in one
// API request (POST /composite/sobjects, allOrNone=false) and returns one
// Result per record, in order.
//
// Per-record save errors (too long, required field missing, duplicate value,
// bad picklist value) come back in the Results. A problem Salesforce meets
// while reading the request (an unknown field, a value of the wrong JSON type,
// a malformed date) fails the whole request with an [*APIError] of class data,
// although only one record may be at fault: narrow it down by splitting the
// batch or sending the records one by one.
//
// Like [Client.Create], it is not idempotent. No records means no request.
// More than MaxCollectionSize records are refused without a request
// (EXCEEDED_ID_LIMIT).
func (c *Client) CreateMany(ctx context.Context, sobject string, records []Fields) ([]Result, error) {
	name := "create many " + sobject
	if err := checkName(name, "object", sobject); err != nil {
		return nil, err
	}
	return c.collection(ctx, call{op: opCollectionCreate, name: name, method: http.MethodPost,
		path: dataPath("composite", "sobjects")}, sobject, records, nil)
}

// UpsertMany creates or updates up to [MaxCollectionSize] records of one
// object by the external ID field extIDField, in one API request (PATCH
// /composite/sobjects/{sobject}/{extIDField}, allOrNone=false), and returns
// one Result per record, in order, with Created telling creations from
// updates. Unlike [Client.Upsert], each record must hold its extIDField
// value. Errors are reported as for [Client.CreateMany]; avoid two records
// with the same external ID in one request.
func (c *Client) UpsertMany(ctx context.Context, sobject, extIDField string, records []Fields) ([]Result, error) {
	name := "upsert many " + sobject
	if err := checkName(name, "object", sobject); err != nil {
		return nil, err
	}
	if err := checkName(name, "field", extIDField); err != nil {
		return nil, err
	}
	return c.collection(ctx, call{op: opCollectionUpsert, name: name, method: http.MethodPatch,
		path: dataPath("composite", "sobjects", sobject, extIDField)}, sobject, records, nil)
}

// UpdateMany sets fields of up to [MaxCollectionSize] records of one object,
// records[i] on the record with ID ids[i], in one API request (PATCH
// /composite/sobjects, allOrNone=false), and returns one Result per record,
// in order.
//
// A record deleted in Salesforce fails on its own, with ENTITY_IS_DELETED or
// INVALID_CROSS_REFERENCE_KEY: see [Result.Deleted]. Other errors are
// reported as for [Client.CreateMany]. Send each ID at most once.
//
// ids and records must be as long as each other, each ID 15 or 18 letters
// and digits (MALFORMED_ID), and no record may hold Id (INVALID_FIELD): such
// calls, and more than MaxCollectionSize records (EXCEEDED_ID_LIMIT), are
// refused without a request. No records means no request.
func (c *Client) UpdateMany(ctx context.Context, sobject string, ids []string, records []Fields) ([]Result, error) {
	name := "update many " + sobject
	if err := checkName(name, "object", sobject); err != nil {
		return nil, err
	}
	if len(ids) != len(records) {
		return nil, &APIError{Op: name, Message: fmt.Sprintf("%d IDs for %d records", len(ids), len(records))}
	}
	for i, id := range ids {
		if !recordID.MatchString(id) {
			return nil, &APIError{Op: name, ErrorCode: "MALFORMED_ID",
				Message: fmt.Sprintf("record %d: a record ID has 15 or 18 letters and digits: %s", i, id)}
		}
		for k := range records[i] {
			if strings.EqualFold(k, "Id") {
				return nil, &APIError{Op: name, ErrorCode: "INVALID_FIELD", Fields: []string{k},
					Message: fmt.Sprintf("record %d holds %s; pass the record IDs in ids", i, k)}
			}
		}
	}
	return c.collection(ctx, call{op: opCollectionUpdate, name: name, method: http.MethodPatch,
		path: dataPath("composite", "sobjects")}, sobject, records, ids)
}

// collection sends records of sobject in one sObject Collections request,
// each with its ID from ids when ids is not nil.
func (c *Client) collection(ctx context.Context, rc call, sobject string, records []Fields, ids []string) ([]Result, error) {
	if len(records) == 0 {
		return nil, nil
	}
	if len(records) > MaxCollectionSize {
		return nil, &APIError{Op: rc.name, ErrorCode: "EXCEEDED_ID_LIMIT",
			Message: fmt.Sprintf("%d records; at most %d can be sent in one request", len(records), MaxCollectionSize)}
	}
	req := collectionRequest{Records: make([]map[string]any, len(records))}
	for i, f := range records {
		r := make(map[string]any, len(f)+2)
		for k, v := range f {
			r[k] = v
		}
		r["attributes"] = map[string]string{"type": sobject}
		if ids != nil {
			r["id"] = ids[i]
		}
		req.Records[i] = r
	}
	body, err := encodeFields(rc.name, req)
	if err != nil {
		return nil, err
	}
	rc.body = body
	status, resp, err := c.do(ctx, rc)
	if err != nil {
		return nil, err
	}
	var results []Result
	if err := decode(rc.name, status, resp, &results); err != nil {
		return nil, err
	}
	if len(results) != len(records) {
		return nil, &APIError{Op: rc.name, StatusCode: status,
			Message: fmt.Sprintf("the response has %d results for %d records", len(results), len(records))}
	}
	return results, nil
}
