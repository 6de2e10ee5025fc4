package salesforcetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/koeiq/syncd/salesforce"
)

// handler performs an API operation. It takes o.mu itself.
type handler func(r *http.Request, body []byte) reply

// route maps a request under /services/data/{version}/ to its operation name
// (for counts and faults) and handler.
func (o *Org) route(method, version string, rest []string) (string, handler) {
	fixed := func(rep reply) handler { return func(*http.Request, []byte) reply { return rep } }
	if version != salesforce.APIVersion || len(rest) == 0 {
		return "unknown", fixed(notFound())
	}
	n := len(rest)
	switch {
	case rest[0] == "sobjects" && n == 2:
		if method == http.MethodPost {
			return "create", o.create(rest[1])
		}
		return "unknown", fixed(methodNotAllowed(method, "HEAD,GET,POST"))
	case rest[0] == "sobjects" && n == 3 && rest[2] == "describe" && method == http.MethodGet:
		return "describe", o.describe(rest[1])
	case rest[0] == "sobjects" && n == 3:
		switch method {
		case http.MethodPatch:
			return "update", o.update(rest[1], rest[2])
		case http.MethodGet:
			return "retrieve", o.retrieve(rest[1], rest[2])
		case http.MethodDelete:
			return "delete", o.delete(rest[1], rest[2])
		}
		return "unknown", fixed(methodNotAllowed(method, "GET,PATCH,DELETE"))
	case rest[0] == "sobjects" && n == 4:
		if method == http.MethodPatch {
			return "upsert", o.upsert(rest[1], rest[2], rest[3])
		}
		return "unknown", fixed(methodNotAllowed(method, "PATCH"))
	case rest[0] == "query" && (n == 1 || n == 2):
		if method != http.MethodGet {
			return "unknown", fixed(methodNotAllowed(method, "GET"))
		}
		if n == 2 {
			return "query", o.queryMore(rest[1])
		}
		return "query", o.query
	case rest[0] == "composite" && n == 1:
		if method == http.MethodPost {
			return "composite", o.composite
		}
		return "unknown", fixed(methodNotAllowed(method, "POST"))
	case rest[0] == "composite" && n >= 2 && rest[1] == "sobjects":
		switch {
		case n == 2 && method == http.MethodPost:
			return "collection_create", o.collection(collectionCreate, "", "")
		case n == 2 && method == http.MethodPatch:
			return "collection_update", o.collection(collectionUpdate, "", "")
		case n == 4 && method == http.MethodPatch:
			return "collection_upsert", o.collection(collectionUpsert, rest[2], rest[3])
		}
		return "unknown", fixed(methodNotAllowed(method, "POST,PATCH"))
	}
	return "unknown", fixed(notFound())
}

// fieldVal is a decoded value for a field.
type fieldVal struct {
	f *field
	v any
}

// deserialize reads a record's values. Unknown fields and values of the
// wrong type fail here, like Salesforce's deserializer: these errors fail a
// whole collection request.
func (obj *object) deserialize(kvs []kv) ([]fieldVal, *sfError) {
	vals := make([]fieldVal, 0, len(kvs))
	for _, e := range kvs {
		if e.key == "attributes" {
			continue
		}
		f := obj.field(e.key)
		if f == nil {
			return nil, newError(http.StatusBadRequest, "INVALID_FIELD",
				fmt.Sprintf("No such column '%s' on sobject of type %s", e.key, obj.name))
		}
		v, err := f.decodeValue(e.raw)
		if err != nil {
			return nil, err
		}
		vals = append(vals, fieldVal{f, v})
	}
	return vals, nil
}

// values reads the record a request body holds: decodeObject, then
// deserialize.
func (obj *object) values(body []byte) ([]fieldVal, *sfError) {
	kvs, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	return obj.deserialize(kvs)
}

// set writes vals into the record rec; a null value clears its field.
func set(rec map[string]any, vals []fieldVal) {
	for _, fv := range vals {
		if fv.v == nil {
			delete(rec, fv.f.Name)
		} else {
			rec[fv.f.Name] = fv.v
		}
	}
}

// checkWrite applies the save-time rules to the values of a create or an
// update. The caller holds o.mu.
func checkWrite(vals []fieldVal, create bool) *sfError {
	var readOnly []string
	for _, fv := range vals {
		if strings.EqualFold(fv.f.Name, "Id") {
			return newError(http.StatusBadRequest, "INVALID_FIELD", "The Id field should not be specified in the sobject data.")
		}
		if create && !fv.f.createable() || !create && !fv.f.updateable() {
			readOnly = append(readOnly, fv.f.Name)
		}
	}
	if len(readOnly) > 0 {
		return newError(http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf(
			"Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
			strings.Join(readOnly, ", ")), readOnly...)
	}
	for _, fv := range vals {
		if fv.v == nil {
			continue
		}
		if err := fv.f.checkValue(fv.v); err != nil {
			return err
		}
	}
	return nil
}

// checkRecord applies the rules on a whole record about to be saved (the
// merged record of an update): required fields, then the references the
// save writes (refs; see checkReference), then validation rules, then unique
// values, in Salesforce's order of execution (unique indexes are checked
// when the record is written). On an update (self != ""), an owner that is
// an inactive User fails the save even when the update leaves OwnerId
// alone, as in Salesforce without the "Update Records with Inactive Owners"
// permission. The caller holds o.mu.
func (o *Org) checkRecord(obj *object, rec map[string]any, self string, refs []*field) *sfError {
	var missing []string
	for _, f := range obj.fields {
		if f.Required && !f.ReadOnly && rec[f.Name] == nil {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return newError(http.StatusBadRequest, "REQUIRED_FIELD_MISSING",
			"Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
	}
	for _, f := range refs {
		if err := o.checkReference(obj, f, rec[f.Name]); err != nil {
			return err
		}
	}
	if owner := obj.field("OwnerId"); self != "" && owner != nil && !slices.Contains(refs, owner) {
		if err := o.checkInactiveOwner(obj, owner, rec[owner.Name]); err != nil {
			return err
		}
	}
	if err := obj.checkRules(rec); err != nil {
		return err
	}
	for _, f := range obj.fields {
		v := rec[f.Name]
		if !f.Unique || v == nil {
			continue
		}
		for id, other := range obj.records {
			if id != self && other[f.Name] == v {
				return newError(http.StatusBadRequest, "DUPLICATE_VALUE", fmt.Sprintf(
					"duplicate value found: %s duplicates value on record with id: %s", f.Name, id), f.Name)
			}
		}
	}
	return nil
}

// checkReference checks the value v of a reference field f with ReferenceTo
// (others pass), as Salesforce checks a lookup on save: an ID of another
// object → FIELD_INTEGRITY_EXCEPTION "<label>: id value of incorrect type";
// a record in the recycle bin → ENTITY_IS_DELETED; one purged or never there
// → INVALID_CROSS_REFERENCE_KEY; an OwnerId naming an inactive User →
// INACTIVE_OWNER_OR_USER. The last three name no field, as Salesforce's
// answers seem not to. The caller holds o.mu.
func (o *Org) checkReference(obj *object, f *field, v any) *sfError {
	s, _ := v.(string)
	id, ok := canonicalID(s)
	if len(f.ReferenceTo) == 0 || !ok {
		return nil // null, or malformed (checkValue's MALFORMED_ID)
	}
	var target *object
	for _, name := range f.ReferenceTo {
		if t := o.object(name); t != nil && strings.HasPrefix(id, t.keyPrefix) {
			target = t
			break
		}
	}
	switch {
	case target == nil:
		return newError(http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", f.Label+": id value of incorrect type: "+s, f.Name)
	case target.records[id] != nil:
		return o.checkInactiveOwner(obj, f, id)
	case target.recycled[id] != nil:
		return newError(http.StatusBadRequest, "ENTITY_IS_DELETED", "entity is deleted")
	}
	return newError(http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
}

// checkInactiveOwner refuses an OwnerId (f) whose value v is a User record
// marked inactive (IsActive false). The caller holds o.mu.
func (o *Org) checkInactiveOwner(obj *object, f *field, v any) *sfError {
	s, _ := v.(string)
	id, ok := canonicalID(s)
	users := o.object("User")
	if !ok || users == nil || !strings.EqualFold(f.Name, "OwnerId") || !slices.Contains(f.ReferenceTo, users.name) {
		return nil
	}
	if user := users.records[id]; user != nil && user["IsActive"] == false {
		return newError(http.StatusBadRequest, "INACTIVE_OWNER_OR_USER", fmt.Sprintf(
			"operation performed with inactive user [%s] as owner of %s", id[:15], strings.ToLower(obj.name)))
	}
	return nil
}

// insert creates a record. The caller holds o.mu.
func (o *Org) insert(obj *object, vals []fieldVal) (string, *sfError) {
	if err := checkWrite(vals, true); err != nil {
		return "", err
	}
	rec := make(map[string]any, len(obj.fields))
	for _, f := range obj.fields {
		if f.Default != nil {
			rec[f.Name] = f.Default
		}
	}
	if obj.field("OwnerId") != nil {
		rec["OwnerId"] = o.userID
	}
	set(rec, vals)
	var refs []*field
	for _, f := range obj.fields {
		if len(f.ReferenceTo) > 0 && rec[f.Name] != nil {
			refs = append(refs, f)
		}
	}
	if err := o.checkRecord(obj, rec, "", refs); err != nil {
		return "", err
	}
	return o.store(obj, rec), nil
}

// modify updates a live record and returns its previous state. The caller
// holds o.mu.
func (o *Org) modify(obj *object, id string, vals []fieldVal) (map[string]any, *sfError) {
	if err := checkWrite(vals, false); err != nil {
		return nil, err
	}
	prev := obj.records[id]
	rec := maps.Clone(prev)
	set(rec, vals)
	var refs []*field
	for _, fv := range vals {
		if len(fv.f.ReferenceTo) > 0 && fv.v != nil {
			refs = append(refs, fv.f)
		}
	}
	if err := o.checkRecord(obj, rec, id, refs); err != nil {
		return nil, err
	}
	rec["LastModifiedDate"] = formatDateTime(time.Now())
	obj.records[id] = rec
	return prev, nil
}

// matches returns the IDs of the live records whose field f holds value,
// in creation order. The caller holds o.mu.
func (obj *object) matches(f *field, value string) []string {
	var ids []string
	for _, id := range obj.order {
		rec, ok := obj.records[id]
		if !ok {
			continue
		}
		if s, ok := externalIDText(rec[f.Name]); ok && s == value {
			ids = append(ids, id)
		}
	}
	return ids
}

// externalIDText returns an external ID value as text, as a URL or a request
// names it: a string as is, a number in its shortest form. ok is false for
// other values (null).
func externalIDText(v any) (s string, ok bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// lookup resolves the ID segment of /sobjects/{type}/{id}: the canonical ID
// of a live record, or the error to answer.
func (obj *object) lookup(seg string) (string, *sfError) {
	id, ok := canonicalID(seg)
	switch {
	case !ok:
		// Salesforce reads a segment that is no ID as an external ID field.
		return "", newError(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+seg)
	case !strings.HasPrefix(id, obj.keyPrefix):
		return "", newError(http.StatusBadRequest, "MALFORMED_ID", obj.name+" ID: id value of incorrect type: "+seg)
	}
	if _, live := obj.records[id]; live {
		return id, nil
	}
	if _, deleted := obj.recycled[id]; deleted {
		return "", newError(http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted")
	}
	return "", newError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

// lookupInCollection resolves the id of a record in an sObject Collections
// update (nil when the record has none): the canonical ID of a live record,
// or its per-record error. Unlike the URL of a single update, which answers
// 404 NOT_FOUND, a record that is not there is INVALID_CROSS_REFERENCE_KEY,
// as for Salesforce's other per-record saves.
func (obj *object) lookupInCollection(v any) (string, *sfError) {
	s, _ := v.(string)
	if s == "" {
		return "", newError(0, "MISSING_ARGUMENT", "Id not specified in an update call")
	}
	id, ok := canonicalID(s)
	if !ok || !strings.HasPrefix(id, obj.keyPrefix) {
		return "", newError(0, "MALFORMED_ID", obj.name+" ID: id value of incorrect type: "+s, "Id")
	}
	if _, live := obj.records[id]; live {
		return id, nil
	}
	if _, deleted := obj.recycled[id]; deleted {
		return "", newError(0, "ENTITY_IS_DELETED", "entity is deleted")
	}
	return "", newError(0, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
}

type saveBody struct {
	ID      string        `json:"id,omitempty"`
	Success bool          `json:"success"`
	Errors  []recordError `json:"errors"`
	Created *bool         `json:"created,omitempty"`
}

type recordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// recordErrors returns the per-record errors of e and those reported with it.
func recordErrors(e *sfError) []recordError {
	var out []recordError
	for _, e := range e.all() {
		out = append(out, recordError{StatusCode: e.code, Message: e.msg, Fields: append([]string{}, e.fields...)})
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func (o *Org) object(name string) *object { return o.objects[strings.ToLower(name)] }

// onObject serves a request about the object sobject under the org's lock:
// an unknown object answers NOT_FOUND.
func (o *Org) onObject(sobject string, serve func(obj *object, body []byte) reply) handler {
	return func(_ *http.Request, body []byte) reply {
		o.mu.Lock()
		defer o.mu.Unlock()
		obj := o.object(sobject)
		if obj == nil {
			return notFound()
		}
		return serve(obj, body)
	}
}

func (o *Org) create(sobject string) handler {
	return o.onObject(sobject, func(obj *object, body []byte) reply {
		vals, err := obj.values(body)
		if err != nil {
			return errorReply(err)
		}
		id, err := o.insert(obj, vals)
		if err != nil {
			return errorReply(err)
		}
		return reply{status: http.StatusCreated, body: saveBody{ID: id, Success: true, Errors: []recordError{}}}
	})
}

// onRecord serves a request about one record, the one seg names (an ID),
// under the org's lock: unknown objects answer NOT_FOUND, unknown or
// malformed IDs their error.
func (o *Org) onRecord(sobject, seg string, serve func(obj *object, id string, body []byte) reply) handler {
	return o.onObject(sobject, func(obj *object, body []byte) reply {
		id, err := obj.lookup(seg)
		if err != nil {
			return errorReply(err)
		}
		return serve(obj, id, body)
	})
}

func (o *Org) update(sobject, seg string) handler {
	return o.onRecord(sobject, seg, func(obj *object, id string, body []byte) reply {
		vals, err := obj.values(body)
		if err != nil {
			return errorReply(err)
		}
		if _, err := o.modify(obj, id, vals); err != nil {
			return errorReply(err)
		}
		return reply{status: http.StatusNoContent}
	})
}

func (o *Org) retrieve(sobject, seg string) handler {
	return o.onRecord(sobject, seg, func(obj *object, id string, _ []byte) reply {
		rec := obj.records[id]
		out := map[string]any{"attributes": attributes(obj, id)}
		for _, f := range obj.fields {
			out[f.Name] = rec[f.Name]
		}
		return reply{status: http.StatusOK, body: out}
	})
}

func (o *Org) delete(sobject, seg string) handler {
	return o.onRecord(sobject, seg, func(obj *object, id string, _ []byte) reply {
		o.recycle(obj, id)
		return reply{status: http.StatusNoContent}
	})
}

func attributes(obj *object, id string) map[string]string {
	return map[string]string{"type": obj.name, "url": "/services/data/" + salesforce.APIVersion + "/sobjects/" + obj.name + "/" + id}
}

func (o *Org) upsert(sobject, fieldName, value string) handler {
	return o.onObject(sobject, func(obj *object, body []byte) reply {
		f := obj.field(fieldName)
		if f == nil || !f.ExternalID {
			return errorReply(newError(http.StatusNotFound, "NOT_FOUND",
				"Provided external ID field does not exist or is not accessible: "+fieldName))
		}
		vals, err := obj.values(body)
		if err != nil {
			return errorReply(err)
		}
		// The external ID comes from the URL. The body may repeat it, but
		// not contradict it (a choice of this simulator).
		vals = slices.DeleteFunc(vals, func(fv fieldVal) bool { return fv.f == f && fv.v == any(value) })
		if slices.ContainsFunc(vals, func(fv fieldVal) bool { return fv.f == f }) {
			return errorReply(newError(http.StatusBadRequest, "INVALID_FIELD",
				"The value of "+f.Name+" in the body does not match the external ID in the URL", f.Name))
		}

		ids := obj.matches(f, value)
		switch len(ids) {
		case 0:
			id, err := o.insert(obj, append(vals, fieldVal{f, value}))
			if err != nil {
				return errorReply(err)
			}
			return reply{status: http.StatusCreated, body: saveBody{ID: id, Success: true, Errors: []recordError{}, Created: ptr(true)}}
		case 1:
			if _, err := o.modify(obj, ids[0], vals); err != nil {
				return errorReply(err)
			}
			return reply{status: http.StatusOK, body: saveBody{ID: ids[0], Success: true, Errors: []recordError{}, Created: ptr(false)}}
		}
		urls := make([]string, len(ids))
		for i, id := range ids {
			urls[i] = attributes(obj, id)["url"]
		}
		return reply{status: http.StatusMultipleChoices, body: urls}
	})
}

func (o *Org) describe(sobject string) handler {
	return o.onObject(sobject, func(obj *object, _ []byte) reply {
		type picklistValue struct {
			Active       bool   `json:"active"`
			DefaultValue bool   `json:"defaultValue"`
			Label        string `json:"label"`
			Value        string `json:"value"`
		}
		type fieldJSON struct {
			Name               string          `json:"name"`
			Label              string          `json:"label"`
			Type               string          `json:"type"`
			Length             int             `json:"length"`
			Createable         bool            `json:"createable"`
			Updateable         bool            `json:"updateable"`
			Nillable           bool            `json:"nillable"`
			DefaultedOnCreate  bool            `json:"defaultedOnCreate"`
			ExternalID         bool            `json:"externalId"`
			Unique             bool            `json:"unique"`
			Filterable         bool            `json:"filterable"`
			Custom             bool            `json:"custom"`
			RestrictedPicklist bool            `json:"restrictedPicklist"`
			PicklistValues     []picklistValue `json:"picklistValues"`
			ReferenceTo        []string        `json:"referenceTo"`
		}
		fields := make([]fieldJSON, 0, len(obj.fields))
		for _, f := range obj.fields {
			fj := fieldJSON{
				Name: f.Name, Label: f.Label, Type: f.Type, Createable: f.createable(), Updateable: f.updateable(),
				Nillable: !f.Required, DefaultedOnCreate: f.defaulted, ExternalID: f.ExternalID, Unique: f.Unique,
				Filterable: f.filterable(), Custom: strings.HasSuffix(f.Name, "__c"), RestrictedPicklist: f.Restricted,
				PicklistValues: []picklistValue{}, ReferenceTo: append([]string{}, f.ReferenceTo...),
			}
			if f.kind == kindText {
				fj.Length = f.Length
			}
			for _, v := range f.Picklist {
				fj.PicklistValues = append(fj.PicklistValues, picklistValue{Active: true, DefaultValue: f.Default == any(v), Label: v, Value: v})
			}
			fields = append(fields, fj)
		}
		return reply{status: http.StatusOK, body: map[string]any{
			"name": obj.name, "label": obj.name, "keyPrefix": obj.keyPrefix, "custom": strings.HasSuffix(obj.name, "__c"),
			"createable": true, "updateable": true, "deletable": true, "queryable": true,
			"fields": fields,
		}}
	})
}

// collectionOp is the operation of an sObject Collections request.
type collectionOp int

const (
	collectionCreate collectionOp = iota + 1 // POST /composite/sobjects
	collectionUpdate                         // PATCH /composite/sobjects
	collectionUpsert                         // PATCH /composite/sobjects/{type}/{field}
)

// collection handles sObject Collections: create, update by ID, or upsert
// of sobject by extField.
func (o *Org) collection(op collectionOp, sobject, extField string) handler {
	return func(_ *http.Request, body []byte) reply {
		o.mu.Lock()
		defer o.mu.Unlock()
		var req struct {
			AllOrNone bool              `json:"allOrNone"`
			Records   []json.RawMessage `json:"records"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return errorReply(newError(http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character in JSON: "+err.Error()))
		}
		if len(req.Records) > salesforce.MaxCollectionSize {
			return errorReply(newError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT",
				"record limit reached. cannot submit more than 200 records into this call"))
		}
		var upsertObj *object
		var ext *field
		if op == collectionUpsert {
			if upsertObj = o.object(sobject); upsertObj == nil {
				return notFound()
			}
			if ext = upsertObj.field(extField); ext == nil || !ext.ExternalID {
				return errorReply(newError(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf(
					"Field name provided, %s is not an External ID or indexed field for %s", extField, upsertObj.name)))
			}
		}

		// Deserialize every record first: a problem here fails the request.
		type item struct {
			obj  *object
			vals []fieldVal
			id   any // update: the value of the record's id, nil when absent
		}
		items := make([]item, len(req.Records))
		for i, raw := range req.Records {
			kvs, err := decodeObject(raw)
			if err != nil {
				return errorReply(err)
			}
			var typ string
			for _, e := range kvs {
				if e.key == "attributes" {
					var a struct {
						Type string `json:"type"`
					}
					json.Unmarshal(e.raw, &a)
					typ = a.Type
				}
			}
			if typ == "" {
				return errorReply(newError(http.StatusBadRequest, "INVALID_TYPE", "Must send a concrete entity type."))
			}
			obj := o.object(typ)
			if obj == nil || upsertObj != nil && obj != upsertObj {
				return errorReply(newError(http.StatusBadRequest, "INVALID_TYPE", "sObject type '"+typ+"' is not supported."))
			}
			vals, err := obj.deserialize(kvs)
			if err != nil {
				return errorReply(err)
			}
			it := item{obj: obj, vals: vals}
			if op == collectionUpdate {
				// The record's id says which record to update; it is not a
				// value to write.
				if j := slices.IndexFunc(vals, func(fv fieldVal) bool { return strings.EqualFold(fv.f.Name, "Id") }); j >= 0 {
					it.id = vals[j].v
					it.vals = slices.Delete(vals, j, j+1)
				}
			}
			items[i] = it
		}

		// Count external IDs, to refuse those sent twice in one request.
		extCount := make(map[string]int)
		extValue := func(vals []fieldVal) string {
			for _, fv := range vals {
				if fv.f == ext {
					s, _ := externalIDText(fv.v)
					return s
				}
			}
			return ""
		}
		if ext != nil {
			for _, it := range items {
				if v := extValue(it.vals); v != "" {
					extCount[v]++
				}
			}
		}
		// An update may not name a record twice (a guess: see the package
		// documentation).
		if op == collectionUpdate {
			seen := make(map[string]bool)
			for _, it := range items {
				raw, _ := it.id.(string)
				id, ok := canonicalID(raw)
				if !ok {
					continue
				}
				if seen[id] {
					return errorReply(newError(http.StatusBadRequest, "INVALID_FIELD", "Duplicate id in list: "+raw))
				}
				seen[id] = true
			}
		}

		// Save record by record, remembering how to undo for allOrNone.
		type undo struct {
			obj  *object
			id   string
			prev map[string]any // nil: created
		}
		var undos []undo
		results := make([]saveBody, len(items))
		failed := false
		for i, it := range items {
			var id string
			var prev map[string]any // the record before an update; nil when created
			var err *sfError
			switch op {
			case collectionCreate:
				id, err = o.insert(it.obj, it.vals)
			case collectionUpdate:
				if id, err = it.obj.lookupInCollection(it.id); err == nil {
					prev, err = o.modify(it.obj, id, it.vals)
				}
			case collectionUpsert:
				v := extValue(it.vals)
				id, prev, err = o.upsertItem(it.obj, ext, v, extCount[v], it.vals)
			}
			if err != nil {
				results[i] = saveBody{Errors: recordErrors(err)}
				failed = true
				continue
			}
			undos = append(undos, undo{it.obj, id, prev})
			results[i] = saveBody{ID: id, Success: true, Errors: []recordError{}}
			if op == collectionUpsert {
				results[i].Created = ptr(prev == nil)
			}
		}

		if req.AllOrNone && failed {
			for _, u := range slices.Backward(undos) {
				if u.prev == nil {
					delete(u.obj.records, u.id)
					u.obj.order = slices.DeleteFunc(u.obj.order, func(id string) bool { return id == u.id })
				} else {
					u.obj.records[u.id] = u.prev
				}
			}
			for i := range results {
				if results[i].Success {
					results[i] = saveBody{Errors: []recordError{{
						StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
						Message:    "Record rolled back because not all records were valid and the request was using AllOrNone header",
						Fields:     []string{},
					}}}
				}
			}
		}
		return reply{status: http.StatusOK, body: results}
	}
}

// upsertItem saves the values vals of one record of an sObject Collections
// upsert by its value v of the external ID field ext, which count records of
// the request hold: it creates the record when no live record holds v, or
// updates the one that does. prev is the record before the update, nil when
// the record was created. The caller holds o.mu.
func (o *Org) upsertItem(obj *object, ext *field, v string, count int, vals []fieldVal) (id string, prev map[string]any, err *sfError) {
	switch {
	case v == "":
		return "", nil, newError(0, "MISSING_ARGUMENT", ext.Name+" not specified", ext.Name)
	case count > 1:
		return "", nil, newError(0, "DUPLICATE_EXTERNAL_ID", "Duplicate external id specified: "+v, ext.Name)
	}
	switch ids := obj.matches(ext, v); len(ids) {
	case 0:
		id, err = o.insert(obj, vals)
		return id, nil, err
	case 1:
		prev, err = o.modify(obj, ids[0], vals)
		return ids[0], prev, err
	default:
		return "", nil, newError(0, "DUPLICATE_EXTERNAL_ID", fmt.Sprintf(
			"Duplicate external id specified: %s matches %d records", v, len(ids)), ext.Name)
	}
}
