package salesforcetest

import (
	"net/http"
	"strings"
)

// ValidationRule is a validation rule of an object, as an admin defines it in
// Salesforce (Setup → Object Manager → Validation Rules), reduced to one
// condition: the rule fires when a text field contains a string. A save the
// rule fires on fails with FIELD_CUSTOM_VALIDATION_EXCEPTION; see
// [Org.AddValidationRule].
type ValidationRule struct {
	// Object is the API name of the object, e.g. "Task"; case-insensitive.
	Object string
	// Field is the text field whose value is checked; case-insensitive.
	Field string
	// Contains fires the rule when the field's value contains it
	// (case-sensitive). A null field never fires the rule; an empty
	// Contains fires it on every other value.
	Contains string
	// Message is the error message the admin wrote: the error's message.
	Message string
	// ErrorField, optional, is the field Salesforce shows the error on (the
	// rule's Error Location): the error's fields are [ErrorField], or []
	// when it is "" (Top of Page).
	ErrorField string
}

// AddValidationRule adds a validation rule to an object. From then on, a
// create, update or upsert (single or in sObject Collections) whose record,
// as it would be after the save, makes the rule fire is not saved and fails
// with FIELD_CUSTOM_VALIDATION_EXCEPTION: 400 for a single record, a
// per-record error in a collection. As in Salesforce's order of execution,
// rules run after the field checks (types, lengths, picklists, read-only and
// required fields) and before unique values are checked; every rule that
// fires reports its error, in the order the rules were added.
// [Org.PutRecord] is not checked.
//
// It panics if the object, Field or ErrorField does not exist, if Field is
// not a text field, or if Message is empty, which Salesforce would not save.
func (o *Org) AddValidationRule(r ValidationRule) {
	o.mu.Lock()
	defer o.mu.Unlock()
	obj := o.object(r.Object)
	if obj == nil {
		panic("salesforcetest: AddValidationRule: no object " + r.Object)
	}
	f := obj.field(r.Field)
	if f == nil || f.kind != kindText {
		panic("salesforcetest: AddValidationRule: no text field " + r.Field + " on " + obj.name)
	}
	if r.Message == "" {
		panic("salesforcetest: AddValidationRule: empty Message")
	}
	r.Object, r.Field = obj.name, f.Name
	if r.ErrorField != "" {
		ef := obj.field(r.ErrorField)
		if ef == nil {
			panic("salesforcetest: AddValidationRule: no field " + r.ErrorField + " on " + obj.name)
		}
		r.ErrorField = ef.Name
	}
	obj.rules = append(obj.rules, r)
}

// ClearValidationRules removes the validation rules of every object.
func (o *Org) ClearValidationRules() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, obj := range o.objects {
		obj.rules = nil
	}
}

// checkRules applies the object's validation rules to a record about to be
// saved: nil, or the error of the first rule that fires with those of the
// others in also. The caller holds o.mu.
func (obj *object) checkRules(rec map[string]any) *sfError {
	var first *sfError
	for _, r := range obj.rules {
		s, ok := rec[r.Field].(string)
		if !ok || !strings.Contains(s, r.Contains) {
			continue
		}
		e := &sfError{status: http.StatusBadRequest, code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", msg: r.Message,
			fields: []string{}} // not nil: Salesforce sends "fields":[]
		if r.ErrorField != "" {
			e.fields = []string{r.ErrorField}
		}
		if first == nil {
			first = e
		} else {
			first.also = append(first.also, e)
		}
	}
	return first
}
