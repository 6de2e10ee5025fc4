package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
)

// sfItem is one call of a Salesforce push and, once pushed, its result.
type sfItem struct {
	in     *pushInput
	object string
	fields salesforce.Fields
	id     string
	err    error
	done   chan struct{} // closed once id or err is set
}

func (it *sfItem) succeed(id string) { it.id, it.err = id, nil }
func (it *sfItem) fail(err error)    { it.err = err }

func (it *sfItem) outcome() pushOutcome {
	if it.err == nil {
		return pushOutcome{recordID: it.id, objectType: it.object}
	}
	return pushOutcome{err: it.err, class: salesforceClass(it.err), public: publicSalesforceError(it.err)}
}

// pushSalesforce pushes the calls of one tenant to its org, never creating a
// second record for a call (SPEC §5.4):
//
//  1. a call with a stored record of the current object type updates it by
//     ID (and is created again if it was deleted in Salesforce);
//  2. with an external ID field, the others are upserted by it, up to 200 a
//     request;
//  3. otherwise they are looked up by Subject (Task) or call_id__c (custom
//     objects), so that a record an earlier attempt created before it could
//     store the ID is found and updated, and only the rest are created, up
//     to 200 a request. A call on its first attempt needs no look-up: no
//     earlier attempt can have created it.
//
// Each item ends with its own record ID or error; one bad record fails
// alone.
func pushSalesforce(ctx context.Context, client *salesforce.Client, st *settings.Salesforce, items []*sfItem) {
	object := st.ObjectType
	extField := mapping.ExternalIDField(object, st.ExternalIDField)
	for _, it := range items {
		it.object = object
		it.fields = mapping.Salesforce(it.in.payload, object, extField, it.in.loc)
	}

	var rest []*sfItem
	for _, it := range items {
		if it.in.recordID == "" || it.in.objectType != object {
			rest = append(rest, it)
			continue
		}
		err := client.Update(ctx, object, it.in.recordID, it.fields)
		switch {
		case err == nil:
			it.succeed(it.in.recordID)
		case salesforce.IsDeleted(err):
			rest = append(rest, it) // deleted in Salesforce: make a new one
		default:
			it.fail(err)
		}
	}
	if len(rest) == 0 {
		return
	}

	if extField != "" {
		for _, chunk := range chunks(rest, salesforce.MaxCollectionSize) {
			saveMany(ctx, chunk, func(ctx context.Context, records []salesforce.Fields) ([]salesforce.Result, error) {
				return client.UpsertMany(ctx, object, extField, records)
			})
		}
		return
	}

	var create, retried []*sfItem
	for _, it := range rest {
		if it.in.fresh {
			create = append(create, it)
		} else {
			retried = append(retried, it)
		}
	}
	found, err := lookup(ctx, client, object, retried)
	if err != nil {
		for _, it := range retried {
			it.fail(err)
		}
		retried = nil
	}
	for _, it := range retried {
		id, ok := found[mapping.LookupValue(object, it.in.callID)]
		if !ok {
			create = append(create, it)
			continue
		}
		if err := client.Update(ctx, object, id, it.fields); err != nil {
			it.fail(err)
		} else {
			it.succeed(id)
		}
	}
	for _, chunk := range chunks(create, salesforce.MaxCollectionSize) {
		saveMany(ctx, chunk, func(ctx context.Context, records []salesforce.Fields) ([]salesforce.Result, error) {
			return client.CreateMany(ctx, object, records)
		})
	}
}

// saveMany saves items with one sObject Collections request and hands each
// its own result. A request that fails as a whole (a deserialization error
// in one record fails them all) is split in halves until the bad record
// fails alone.
func saveMany(ctx context.Context, items []*sfItem, save func(context.Context, []salesforce.Fields) ([]salesforce.Result, error)) {
	records := make([]salesforce.Fields, len(items))
	for i, it := range items {
		records[i] = it.fields
	}
	results, err := save(ctx, records)
	if err != nil {
		if len(items) > 1 && salesforce.Classify(err) == salesforce.ClassData {
			half := len(items) / 2
			saveMany(ctx, items[:half], save)
			saveMany(ctx, items[half:], save)
			return
		}
		for _, it := range items {
			it.fail(err)
		}
		return
	}
	if len(results) != len(items) {
		err := fmt.Errorf("salesforce: %d results for %d records", len(results), len(items))
		for _, it := range items {
			it.fail(err)
		}
		return
	}
	for i, r := range results {
		if r.Success {
			items[i].succeed(r.ID)
			continue
		}
		items[i].fail(recordError(r))
	}
}

// recordError turns a per-record error of a collection into an
// *salesforce.APIError, so it is classified and stored like any other.
func recordError(r salesforce.Result) error {
	if len(r.Errors) == 0 {
		return &salesforce.APIError{Op: "save", StatusCode: 500, Message: "Salesforce reported a failure without an error"}
	}
	first := r.Errors[0]
	ae := &salesforce.APIError{Op: "save", StatusCode: 400, ErrorCode: first.StatusCode, Message: first.Message, Fields: first.Fields}
	if first.Class() == salesforce.ClassRetryable {
		ae.StatusCode = 503
	}
	for _, e := range r.Errors[1:] {
		ae.Message += "; " + e.StatusCode + ": " + e.Message
	}
	return ae
}

// lookupQueryLimit keeps a lookup query well under Salesforce's 16,384-byte
// limit for the URI.
const lookupQueryLimit = 8000

// lookup finds the records of the items' calls by their lookup field and
// returns their IDs by lookup value.
func lookup(ctx context.Context, client *salesforce.Client, object string, items []*sfItem) (map[string]string, error) {
	field := mapping.LookupField(object)
	found := map[string]string{}
	prefix := "SELECT Id, " + field + " FROM " + object + " WHERE " + field + " IN ("
	var values []string
	size := len(prefix)
	flush := func() error {
		if len(values) == 0 {
			return nil
		}
		records, err := client.Query(ctx, prefix+strings.Join(values, ", ")+") ORDER BY CreatedDate")
		if err != nil {
			return err
		}
		for _, r := range records {
			id, _ := r["Id"].(string)
			v, _ := r[field].(string)
			if _, seen := found[v]; !seen && id != "" {
				found[v] = id // the oldest, if an earlier failure left two
			}
		}
		values, size = values[:0], len(prefix)
		return nil
	}
	for _, it := range items {
		q := salesforce.QuoteSOQL(mapping.LookupValue(object, it.in.callID))
		if size+len(q)+2 > lookupQueryLimit {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		values = append(values, q)
		size += len(q) + 2
	}
	return found, flush()
}

func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// salesforceClass maps a Salesforce error onto what the worker does.
func salesforceClass(err error) errorClass {
	switch salesforce.Classify(err) {
	case salesforce.ClassRateLimited:
		return classRateLimited
	case salesforce.ClassAuth:
		return classAuth
	case salesforce.ClassData:
		return classData
	}
	return classRetry
}

// publicSalesforceError describes err without Salesforce's message, which
// can quote call content.
func publicSalesforceError(err error) string {
	var ae *salesforce.APIError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	s := fmt.Sprintf("salesforce: %s: HTTP %d %s", ae.Op, ae.StatusCode, ae.ErrorCode)
	if len(ae.Fields) > 0 {
		s += " (fields: " + strings.Join(ae.Fields, ", ") + ")"
	}
	return s + "; the message is in sync_records.last_error"
}
