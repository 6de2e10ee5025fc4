package salesforce

import (
	"context"
	"fmt"
	"net/http"
)

// MaxCollectionSize is the most records an sObject Collections request may
// carry.
const MaxCollectionSize = 200

// Result is the outcome for one record of an sObject Collections request.
type Result struct {
	// ID is the record's ID; "" when the record failed.
	ID string `json:"id"`
	// Success is true when the record was saved.
	Success bool `json:"success"`
	// Created is true when an upsert created the record (always false for
	// CreateMany's results, which are all creations).
	Created bool `json:"created"`
	// Errors says why the record was not saved.
	Errors []RecordError `json:"errors"`
}

// RecordError is a per-record error of an sObject Collections request. Unlike
// the top-level errors of [APIError], its code is called statusCode. Message
// can quote call content: store it, do not log it.
type RecordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
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
		path: dataPath("composite", "sobjects")}, sobject, records)
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
		path: dataPath("composite", "sobjects", sobject, extIDField)}, sobject, records)
}

func (c *Client) collection(ctx context.Context, rc call, sobject string, records []Fields) ([]Result, error) {
	if len(records) == 0 {
		return nil, nil
	}
	if len(records) > MaxCollectionSize {
		return nil, &APIError{Op: rc.name, ErrorCode: "EXCEEDED_ID_LIMIT",
			Message: fmt.Sprintf("%d records; at most %d can be sent in one request", len(records), MaxCollectionSize)}
	}
	req := collectionRequest{Records: make([]map[string]any, len(records))}
	for i, f := range records {
		r := make(map[string]any, len(f)+1)
		for k, v := range f {
			r[k] = v
		}
		r["attributes"] = map[string]string{"type": sobject}
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
