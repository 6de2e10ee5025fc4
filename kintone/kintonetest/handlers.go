package kintonetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxBulk is the most records Add Records and Update Records take.
const maxBulk = 100

// handle authenticates and runs one request. The caller holds s.mu, which
// makes each request atomic: a failed write changes nothing.
func (a *App) handle(r *http.Request, op string, payload map[string]json.RawMessage) (any, *apiError) {
	if err := a.authenticate(r); err != nil {
		return nil, err
	}
	switch op {
	case "add":
		return a.add(payload)
	case "add_many":
		return a.addMany(payload)
	case "update":
		if strings.HasSuffix(r.URL.Path, "/records.json") {
			return a.updateMany(payload, false)
		}
		return a.updateOne(payload)
	case "upsert":
		return a.updateMany(payload, !a.noUpsert)
	case "get":
		return a.get(r)
	case "query":
		return a.query(r)
	case "fields":
		return a.formFields(), nil
	}
	return nil, newError(http.StatusNotFound, "CB_NO01", "Not found.")
}

// txn is a working copy of an app's records; commit installs it. Validation
// runs against the copy, so records earlier in a bulk request count for
// uniqueness of later ones.
type txn struct {
	a       *App
	records map[int64]*storedRecord
	nextID  int64
}

func (a *App) begin() *txn {
	return &txn{a: a, records: maps.Clone(a.records), nextID: a.nextID}
}

func (t *txn) commit() {
	t.a.records = t.records
	t.a.nextID = t.nextID
}

// insert validates values as a new record and stages it. prefix is "record"
// or "records[i]" for error keys.
func (t *txn) insert(values map[string]any, prefix string, errs map[string][]string) *storedRecord {
	rec := &storedRecord{id: t.nextID, revision: 1, values: values}
	if t.a.validate(t, rec, prefix, errs) {
		t.records[rec.id] = rec
		t.nextID++
	}
	return rec
}

// replace validates merged values for an existing record and stages them.
func (t *txn) replace(old *storedRecord, changes map[string]any, prefix string, errs map[string][]string) *storedRecord {
	rec := old.clone()
	for k, v := range changes {
		rec.values[k] = v
	}
	rec.revision++
	if t.a.validate(t, rec, prefix, errs) {
		t.records[rec.id] = rec
	}
	return rec
}

// decodeRecord reads {"code": {"value": v}, ...} into field values, ignoring
// codes the app does not have, as Kintone does.
func (a *App) decodeRecord(raw json.RawMessage) (map[string]any, *apiError) {
	values := make(map[string]any)
	if len(raw) == 0 || string(raw) == "null" {
		return values, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, errInvalidJSON
	}
	for code, fraw := range fields {
		def, known := a.byCode[code]
		if !known {
			continue
		}
		var fv struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(fraw, &fv); err != nil {
			return nil, errInvalidJSON
		}
		v, ok := decodeValue(def, fv.Value)
		if !ok {
			return nil, errInvalidJSON
		}
		values[code] = v
	}
	return values, nil
}

// decodeValue converts one JSON value for a field of def's type: a string
// (numbers accepted as their text) for single-value fields, a list of strings
// for multi-value fields; null clears.
func decodeValue(def FieldDef, raw json.RawMessage) (any, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		if multiTypes[def.Type] {
			return []string{}, true
		}
		return "", true
	}
	if multiTypes[def.Type] {
		var l []string
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, false
		}
		if l == nil {
			l = []string{}
		}
		return l, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), true
	}
	return nil, false
}

// recordIDString formats a record ID or revision as Kintone does: a string.
func recordIDString(n int64) string { return strconv.FormatInt(n, 10) }

// add handles POST record.json.
func (a *App) add(payload map[string]json.RawMessage) (any, *apiError) {
	values, aerr := a.decodeRecord(payload["record"])
	if aerr != nil {
		return nil, aerr
	}
	t := a.begin()
	errs := make(map[string][]string)
	rec := t.insert(values, "record", errs)
	if len(errs) > 0 {
		return nil, validationError(errs)
	}
	t.commit()
	return map[string]string{"id": recordIDString(rec.id), "revision": recordIDString(rec.revision)}, nil
}

// addMany handles POST records.json: all records or none.
func (a *App) addMany(payload map[string]json.RawMessage) (any, *apiError) {
	raws, aerr := decodeBulk[json.RawMessage](payload, "added")
	if aerr != nil {
		return nil, aerr
	}
	t := a.begin()
	errs := make(map[string][]string)
	ids := make([]string, 0, len(raws))
	revs := make([]string, 0, len(raws))
	for i, raw := range raws {
		values, aerr := a.decodeRecord(raw)
		if aerr != nil {
			return nil, aerr
		}
		rec := t.insert(values, fmt.Sprintf("records[%d]", i), errs)
		ids = append(ids, recordIDString(rec.id))
		revs = append(revs, recordIDString(rec.revision))
	}
	if len(errs) > 0 {
		return nil, validationError(errs)
	}
	t.commit()
	return map[string][]string{"ids": ids, "revisions": revs}, nil
}

// decodeBulk reads the records of a bulk request, which must hold 1 to
// maxBulk of them; verb says what is done to them in the error message.
func decodeBulk[T any](payload map[string]json.RawMessage, verb string) ([]T, *apiError) {
	var items []T
	if err := json.Unmarshal(payload["records"], &items); err != nil && payload["records"] != nil {
		return nil, errInvalidJSON
	}
	if len(items) == 0 {
		return nil, validationError(map[string][]string{"records": {"Required."}})
	}
	if len(items) > maxBulk {
		return nil, validationError(map[string][]string{"records": {"A maximum of 100 records can be " + verb + " at one time."}})
	}
	return items, nil
}

// updateItem is one record of Update Record or Update Records.
type updateItem struct {
	ID        json.RawMessage `json:"id"`
	UpdateKey *struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	} `json:"updateKey"`
	Revision json.RawMessage `json:"revision"`
	Record   json.RawMessage `json:"record"`
}

// updateOne handles PUT record.json.
func (a *App) updateOne(payload map[string]json.RawMessage) (any, *apiError) {
	var item updateItem
	b, _ := json.Marshal(payload)
	if err := json.Unmarshal(b, &item); err != nil {
		return nil, errInvalidJSON
	}
	t := a.begin()
	errs := make(map[string][]string)
	rec, _, aerr := a.applyUpdate(t, item, "", "record", false, errs)
	if aerr != nil {
		return nil, aerr
	}
	if len(errs) > 0 {
		return nil, validationError(errs)
	}
	t.commit()
	return map[string]string{"revision": recordIDString(rec.revision)}, nil
}

// updateMany handles PUT records.json, in upsert mode when upsert is true:
// all records or none.
func (a *App) updateMany(payload map[string]json.RawMessage, upsert bool) (any, *apiError) {
	items, aerr := decodeBulk[updateItem](payload, "updated")
	if aerr != nil {
		return nil, aerr
	}
	type result struct {
		ID        string `json:"id"`
		Revision  string `json:"revision"`
		Operation string `json:"operation,omitempty"`
	}
	t := a.begin()
	errs := make(map[string][]string)
	results := make([]result, 0, len(items))
	for i, item := range items {
		rec, inserted, aerr := a.applyUpdate(t, item, fmt.Sprintf("records[%d].", i), fmt.Sprintf("records[%d]", i), upsert, errs)
		if aerr != nil {
			return nil, aerr
		}
		res := result{ID: recordIDString(rec.id), Revision: recordIDString(rec.revision)}
		if upsert {
			res.Operation = "UPDATE"
			if inserted {
				res.Operation = "INSERT"
			}
		}
		results = append(results, res)
	}
	if len(errs) > 0 {
		return nil, validationError(errs)
	}
	t.commit()
	return map[string][]result{"records": results}, nil
}

// applyUpdate resolves an item's target by id or updateKey and stages the
// change, or in upsert mode a new record when there is no target. keyPrefix
// prefixes parameter error keys ("" or "records[i]."), recPrefix field
// error keys.
func (a *App) applyUpdate(t *txn, item updateItem, keyPrefix, recPrefix string, upsert bool, errs map[string][]string) (*storedRecord, bool, *apiError) {
	hasID := len(item.ID) > 0 && string(item.ID) != "null"
	if hasID == (item.UpdateKey != nil) {
		msg := "Required."
		if hasID {
			msg = "Specify either id or updateKey, not both."
		}
		return nil, false, validationError(map[string][]string{keyPrefix + "id": {msg}})
	}
	changes, aerr := a.decodeRecord(item.Record)
	if aerr != nil {
		return nil, false, aerr
	}

	var target *storedRecord
	var keyField, keyValue string
	if hasID {
		id, ok := jsonInt(item.ID)
		if !ok {
			return nil, false, validationError(map[string][]string{keyPrefix + "id": {"Enter an integer."}})
		}
		target = t.records[id]
		if target == nil && !upsert {
			return nil, false, newError(http.StatusNotFound, "GAIA_RE01", fmt.Sprintf("The specified record (ID: %d) is not found.", id))
		}
	} else {
		keyField = item.UpdateKey.Field
		def, known := a.byCode[keyField]
		if !known || !def.Unique || !updateKeyOK[def.Type] {
			return nil, false, validationError(map[string][]string{keyPrefix + "updateKey.field": {
				"The field for updateKey must be a Text or Number field with \"Prohibit duplicate values\" turned on."}})
		}
		v, ok := decodeValue(def, item.UpdateKey.Value)
		if !ok || v == "" {
			return nil, false, validationError(map[string][]string{keyPrefix + "updateKey.value": {"Required."}})
		}
		keyValue = v.(string)
		if old, ok := changes[keyField]; ok && old != keyValue {
			return nil, false, validationError(map[string][]string{recPrefix + "." + keyField + ".value": {
				"The field specified in updateKey cannot be changed."}})
		}
		for _, id := range slices.Sorted(maps.Keys(t.records)) {
			if r := t.records[id]; r.values[keyField] == keyValue {
				target = r
				break
			}
		}
		if target == nil && !upsert {
			return nil, false, newError(http.StatusNotFound, "GAIA_RE20", "No record matches the condition specified in updateKey.")
		}
	}

	if target == nil {
		if keyField != "" {
			changes[keyField] = keyValue
		}
		return t.insert(changes, recPrefix, errs), true, nil
	}
	if len(item.Revision) > 0 && string(item.Revision) != "null" {
		want, ok := jsonInt(item.Revision)
		if !ok {
			return nil, false, validationError(map[string][]string{keyPrefix + "revision": {"Enter an integer."}})
		}
		if want != -1 && want != target.revision {
			return nil, false, newError(http.StatusConflict, "GAIA_CO02", "The revision is not the latest. Someone may update a record after you opened it.")
		}
	}
	return t.replace(target, changes, recPrefix, errs), false, nil
}

// jsonInt reads an integer sent as a JSON number or string.
func jsonInt(raw json.RawMessage) (int64, bool) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false
	}
	var s string
	switch v := v.(type) {
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		s = v
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// get handles GET record.json.
func (a *App) get(r *http.Request) (any, *apiError) {
	id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	if err != nil {
		return nil, validationError(map[string][]string{"id": {"Required."}})
	}
	rec := a.records[id]
	if rec == nil {
		return nil, newError(http.StatusNotFound, "GAIA_RE01", fmt.Sprintf("The specified record (ID: %d) is not found.", id))
	}
	return map[string]any{"record": a.wireRecord(rec, nil)}, nil
}

// wireRecord renders a record as Get Record(s) does: every field with its
// type and value, plus $id, $revision and the record number. With only set,
// just those codes.
func (a *App) wireRecord(rec *storedRecord, only map[string]bool) map[string]any {
	type typed struct {
		Type  string `json:"type"`
		Value any    `json:"value"`
	}
	out := make(map[string]any)
	add := func(code, typ string, v any) {
		if only == nil || only[code] {
			out[code] = typed{typ, v}
		}
	}
	for _, f := range a.fields {
		v, ok := rec.values[f.Code]
		if !ok {
			v = ""
			if multiTypes[f.Type] {
				v = []string{}
			}
		}
		add(f.Code, f.Type, v)
	}
	add(recordNumber, "RECORD_NUMBER", recordIDString(rec.id))
	add("$id", "__ID__", recordIDString(rec.id))
	add("$revision", "__REVISION__", recordIDString(rec.revision))
	return out
}

// query handles GET records.json.
func (a *App) query(r *http.Request) (any, *apiError) {
	params := r.URL.Query()
	q, aerr := parseQuery(params.Get("query"))
	if aerr != nil {
		return nil, aerr
	}
	if aerr := a.checkQuery(q); aerr != nil {
		return nil, aerr
	}
	var only map[string]bool
	for key, vals := range params {
		if key == "fields" || strings.HasPrefix(key, "fields[") {
			if only == nil {
				only = make(map[string]bool)
			}
			for _, v := range vals {
				only[v] = true
			}
		}
	}
	matched := a.runQuery(q)
	total := len(matched)
	start := min(q.offset, len(matched))
	end := min(start+q.limit, len(matched))
	records := make([]map[string]any, 0, end-start)
	for _, rec := range matched[start:end] {
		records = append(records, a.wireRecord(rec, only))
	}
	var totalCount any
	if params.Get("totalCount") == "true" {
		totalCount = strconv.Itoa(total)
	}
	return map[string]any{"records": records, "totalCount": totalCount}, nil
}

// formFields handles GET app/form/fields.json.
func (a *App) formFields() any {
	props := map[string]any{
		recordNumber: map[string]any{"type": "RECORD_NUMBER", "code": recordNumber, "label": "Record number", "noLabel": false},
	}
	for _, f := range a.fields {
		p := map[string]any{
			"type":     f.Type,
			"code":     f.Code,
			"label":    f.Label,
			"noLabel":  false,
			"required": f.Required,
		}
		if uniqueTypes[f.Type] {
			p["unique"] = f.Unique
		}
		if lengthTypes[f.Type] {
			p["maxLength"] = ""
			if f.MaxLength > 0 {
				p["maxLength"] = strconv.Itoa(f.MaxLength)
			}
			p["minLength"] = ""
		}
		switch f.Type {
		case "NUMBER":
			p["minValue"], p["maxValue"], p["digit"], p["displayScale"], p["unit"], p["unitPosition"] = "", "", false, "", "", "BEFORE"
		case "LINK":
			p["protocol"] = "WEB"
		case "DATE", "DATETIME":
			p["defaultNowValue"] = false
		}
		if optionTypes[f.Type] {
			opts := make(map[string]any, len(f.Options))
			for i, o := range f.Options {
				opts[o] = map[string]string{"label": o, "index": strconv.Itoa(i)}
			}
			p["options"] = opts
		}
		if multiTypes[f.Type] {
			p["defaultValue"] = []string{}
		} else {
			p["defaultValue"] = ""
		}
		props[f.Code] = p
	}
	return map[string]any{"properties": props, "revision": "1"}
}
