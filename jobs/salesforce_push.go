package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
)

// pushSalesforce pushes a batch of one tenant's calls to its org, never
// creating a second record for a call (SPEC §5.4):
//
//  1. a call with a stored record of the current object type updates it by
//     ID, up to 200 a request (and is created again if it was deleted in
//     Salesforce);
//  2. with an external ID field, the others are upserted by it, up to 200 a
//     request;
//  3. otherwise they are looked up by Subject (Task) or call_id__c (custom
//     objects), so that a record an earlier attempt created before it could
//     store the ID is found and updated, and only the rest are created, up
//     to 200 a request. A call on its first lease needs no look-up: no
//     earlier attempt can have created it. Before a create is sent, its
//     calls are marked in doubt (markInDoubt); if its answer is lost they
//     are not looked up again before the doubt ends.
//
// Each item ends with its own record ID or error; one bad record fails
// alone. Items left without a result were not sent (ctx ended first).
func pushSalesforce(ctx context.Context, client *salesforce.Client, st *settings.Salesforce, users *userCache, items []*pushItem,
	markInDoubt func(context.Context, []*pushItem) error) {
	object := st.ObjectType
	extField := mapping.ExternalIDField(object, st.ExternalIDField)
	fields := make(map[*pushItem]salesforce.Fields, len(items))
	for _, it := range items {
		fields[it] = mapping.Salesforce(it.payload, object, extField, it.loc)
	}
	matchCalls(ctx, client, st, users, items)
	// records are the items' records with their links (linkRecord): as
	// created when create says so for the item.
	records := func(items []*pushItem, create func(*pushItem) bool) []salesforce.Fields {
		out := make([]salesforce.Fields, len(items))
		for i, it := range items {
			out[i] = linkRecord(fields[it], it, st, create(it))
		}
		return out
	}
	never := func(*pushItem) bool { return false }
	always := func(*pushItem) bool { return true }
	// An upsert of a call on its first lease creates its record: no
	// earlier attempt can have.
	fresh := func(it *pushItem) bool { return it.fresh }
	// update updates items' records by the IDs in ids and returns the items
	// whose record was deleted in Salesforce.
	update := func(items []*pushItem, ids map[*pushItem]string) []*pushItem {
		var deleted []*pushItem
		for _, chunk := range chunks(items, salesforce.MaxCollectionSize) {
			deleted = append(deleted, saveMany(ctx, object, chunk, true, func(ctx context.Context, items []*pushItem) ([]salesforce.Result, error) {
				idList := make([]string, len(items))
				for i, it := range items {
					idList[i] = ids[it]
				}
				return client.UpdateMany(ctx, object, idList, records(items, never))
			})...)
		}
		return deleted
	}

	var stored, rest []*pushItem
	storedIDs := map[*pushItem]string{}
	for _, it := range items {
		if it.recordID != "" && it.objectType == object {
			stored = append(stored, it)
			storedIDs[it] = it.recordID
		} else {
			rest = append(rest, it)
		}
	}
	rest = append(rest, update(stored, storedIDs)...) // deleted in Salesforce: make new ones

	if extField != "" {
		for _, chunk := range chunks(rest, salesforce.MaxCollectionSize) {
			saveMany(ctx, object, chunk, false, func(ctx context.Context, items []*pushItem) ([]salesforce.Result, error) {
				return client.UpsertMany(ctx, object, extField, records(items, fresh))
			})
		}
		return
	}

	var create, retried []*pushItem
	for _, it := range rest {
		if it.fresh {
			create = append(create, it)
		} else {
			retried = append(retried, it)
		}
	}
	found := lookup(ctx, client, object, retried)
	var kept []*pushItem
	for _, it := range retried {
		if !it.done() { // a look-up that failed leaves the call to a later attempt
			kept = append(kept, it)
		}
	}
	retried = kept
	var existing []*pushItem
	foundIDs := map[*pushItem]string{}
	for _, it := range retried {
		if id, ok := found[mapping.LookupValue(object, it.callID)]; ok {
			existing = append(existing, it)
			foundIDs[it] = id
		} else {
			create = append(create, it)
		}
	}
	create = append(create, update(existing, foundIDs)...)
	if len(create) == 0 || ctx.Err() != nil {
		return
	}

	if err := markInDoubt(ctx, create); err != nil {
		for _, it := range create {
			it.failSalesforce(err, false)
		}
		return
	}
	for _, it := range create {
		it.result.inDoubt = true
	}
	for _, chunk := range chunks(create, salesforce.MaxCollectionSize) {
		saveMany(ctx, object, chunk, false, func(ctx context.Context, items []*pushItem) ([]salesforce.Result, error) {
			return client.CreateMany(ctx, object, records(items, always))
		})
	}
}

// saveMany saves items with one sObject Collections request and hands each
// its own result. A request that fails as a whole for one record (a
// deserialization error fails them all) is split in halves until the bad
// record fails alone. For an update, it returns the items whose record was
// deleted in Salesforce, without a result.
func saveMany(ctx context.Context, object string, items []*pushItem, update bool,
	save func(context.Context, []*pushItem) ([]salesforce.Result, error)) (deleted []*pushItem) {
	if ctx.Err() != nil {
		for _, it := range items {
			it.result.inDoubt = false // not sent
		}
		return nil
	}
	results, err := save(ctx, items)
	if err != nil {
		if len(items) > 1 && salesforce.Classify(err) == crm.ClassData {
			half := len(items) / 2
			return append(saveMany(ctx, object, items[:half], update, save), saveMany(ctx, object, items[half:], update, save)...)
		}
		for _, it := range items {
			it.failSalesforce(err, false)
		}
		return nil
	}
	if len(results) != len(items) {
		err := fmt.Errorf("salesforce: %d results for %d records", len(results), len(items))
		for _, it := range items {
			it.failSalesforce(err, true) // an answer we cannot match: the writes may have happened
		}
		return nil
	}
	for i, r := range results {
		switch {
		case r.Success:
			items[i].succeed(r.ID, object)
		case update && r.Deleted():
			deleted = append(deleted, items[i])
		default:
			items[i].failSalesforce(r.Err(), false)
		}
	}
	return deleted
}

// failSalesforce sets the item's failure. A create in doubt stays in doubt
// when the failure leaves its outcome unknown: when err says so
// (outcomeUnknown), or whatever err says when unknown is true.
func (it *pushItem) failSalesforce(err error, unknown bool) {
	inDoubt := it.result.inDoubt && (unknown || outcomeUnknown(err))
	it.fail(err, salesforce.Classify(err), publicSalesforceError(err))
	it.result.inDoubt = inDoubt
}

// outcomeUnknown reports whether a request that failed with err may still
// have written: it may have been sent, and no answer was read. An answer
// with an error status is definite (Salesforce rolls the request back), and
// so is a connection that could not be made.
func outcomeUnknown(err error) bool {
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 200 && ae.StatusCode < 300 // a success we could not read
	}
	var se *salesforce.SaveError
	if errors.As(err, &se) {
		return false
	}
	var oe *net.OpError
	return !errors.As(err, &oe) || oe.Op != "dial"
}

// lookupQueryLimit keeps a look-up's query, URL-encoded as the client sends
// it, at 12,000 bytes: with the path and the headers, well under the 16,384
// bytes Salesforce allows for the URI plus headers (414 or 431 above).
const lookupQueryLimit = 12000

// lookup finds the records of the items' calls by their lookup field and
// returns their IDs by lookup value, with as many SOQL IN (...) queries as
// the URI limit needs. A query that Salesforce refuses as a whole (a 4xx) is
// split in halves, so that only the calls it cannot look up at all fail; and
// a look-up that fails is no data error of its calls, so they are tried
// again later (or the tenant paused or parked, for a spent limit or refused
// credentials).
func lookup(ctx context.Context, client *salesforce.Client, object string, items []*pushItem) map[string]string {
	field := mapping.LookupField(object)
	prefix, suffix := "SELECT Id, "+field+" FROM "+object+" WHERE "+field+" IN (", ") ORDER BY CreatedDate"
	encoded := func(s string) int { return len(url.QueryEscape(s)) }
	found := map[string]string{}

	var query func(items []*pushItem, values []string)
	query = func(items []*pushItem, values []string) {
		records, err := client.Query(ctx, prefix+strings.Join(values, ", ")+suffix)
		if err != nil {
			class := salesforce.Classify(err)
			if class == crm.ClassData && len(items) > 1 && ctx.Err() == nil {
				// Refused as a whole (too long, or one value it cannot
				// take): narrow it down.
				half := len(items) / 2
				query(items[:half], values[:half])
				query(items[half:], values[half:])
				return
			}
			if class == crm.ClassData {
				class = crm.ClassRetryable
			}
			for _, it := range items {
				it.fail(err, class, publicSalesforceError(err))
			}
			return
		}
		for _, r := range records {
			id, _ := r["Id"].(string)
			v, _ := r[field].(string)
			if _, seen := found[v]; !seen && id != "" {
				found[v] = id // the oldest, if an earlier failure left two
			}
		}
	}

	base := encoded(prefix) + encoded(suffix)
	var group []*pushItem
	var values []string
	size := base
	for _, it := range items {
		q := salesforce.QuoteSOQL(mapping.LookupValue(object, it.callID))
		n := encoded(q) + encoded(", ")
		if len(group) > 0 && size+n > lookupQueryLimit {
			query(group, values)
			group, values, size = nil, nil, base
		}
		group, values, size = append(group, it), append(values, q), size+n
	}
	if len(group) > 0 {
		query(group, values)
	}
	return found
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

// publicSalesforceError describes err without Salesforce's message, which
// can quote call content.
func publicSalesforceError(err error) string {
	var se *salesforce.SaveError
	if errors.As(err, &se) {
		codes := make([]string, len(se.Errors))
		var fields []string
		for i, e := range se.Errors {
			codes[i] = e.StatusCode
			fields = append(fields, e.Fields...)
		}
		s := "salesforce: save: " + strings.Join(codes, ", ")
		if len(fields) > 0 {
			s += " (fields: " + strings.Join(fields, ", ") + ")"
		}
		return s + "; the message is in sync_records.last_error"
	}
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
