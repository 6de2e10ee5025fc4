package salesforcetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// recordPageCSP keeps the record page self-contained: no scripts, no
// external resources, only the page's own inline style.
const recordPageCSP = "default-src 'none'; style-src 'unsafe-inline'"

// recordPage is what the record page template shows.
type recordPage struct {
	Org     string
	Object  string // "" when the ID is of no record of the org
	ID      string // as the record holds it; the requested text when unknown
	Deleted bool
	Rows    []recordRow
}

type recordRow struct {
	Field, Label, Value string
}

var recordPageTmpl = template.Must(template.New("record").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Rows}}{{.Object}} {{.ID}}{{else if .Deleted}}Deleted {{.Object}}{{else}}Record not found{{end}} · syncd Salesforce simulator</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #181818; }
p.sim { color: #555; font-size: .9rem; }
table { border-collapse: collapse; margin-top: 1rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .8rem; border-bottom: 1px solid #ddd; }
th { font-weight: 600; white-space: nowrap; }
td { white-space: pre-wrap; word-break: break-word; }
code { font-size: .95em; }
</style>
</head>
<body>
<p class="sim">The syncd Salesforce simulator (org {{.Org}}), not a real Salesforce org.</p>
{{- if .Rows}}
<h1>{{.Object}}</h1>
<p>Record ID <code>{{.ID}}</code></p>
<table>
<thead><tr><th>Field</th><th>Value</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><th title="{{.Label}}">{{.Field}}</th><td>{{.Value}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else if .Deleted}}
<h1>Record deleted</h1>
<p>The {{.Object}} record <code>{{.ID}}</code> was deleted: it is in the recycle bin.</p>
{{- else}}
<h1>Record not found</h1>
<p>No record of this org has the ID <code>{{.ID}}</code>.</p>
{{- end}}
</body>
</html>
`))

// serveRecordPage answers GET {instance URL}/{id}, the address at which
// Salesforce opens a record in the browser: an HTML page of the record's
// fields. It needs no authentication and is no API request: it is not
// counted, has no latency or faults and costs no API usage.
func (o *Org) serveRecordPage(w http.ResponseWriter, r *http.Request, seg string) {
	h := w.Header()
	h.Set("Content-Security-Policy", recordPageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMethodNotAllowed)
		w.Write([]byte("method not allowed\n"))
		return
	}
	page, status := o.recordPage(seg)
	var buf bytes.Buffer
	if err := recordPageTmpl.Execute(&buf, page); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// recordPage looks up the record with the 15- or 18-character ID seg, in
// any of the org's objects, and returns what its page shows and the status
// to answer.
func (o *Org) recordPage(seg string) (recordPage, int) {
	page := recordPage{Org: o.name, ID: seg}
	id, ok := canonicalID(seg)
	if !ok {
		return page, http.StatusNotFound
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, obj := range o.objects {
		if !strings.HasPrefix(id, obj.keyPrefix) {
			continue
		}
		page.Object, page.ID = obj.name, id
		rec, live := obj.records[id]
		if !live {
			_, page.Deleted = obj.recycled[id]
			if !page.Deleted {
				page.Object, page.ID = "", seg
			}
			return page, http.StatusNotFound
		}
		for _, f := range obj.fields {
			page.Rows = append(page.Rows, recordRow{Field: f.Name, Label: f.Label, Value: displayValue(rec[f.Name])})
		}
		return page, http.StatusOK
	}
	return page, http.StatusNotFound
}

// displayValue formats a record's value (as encoding/json decodes it) for
// the record page: "" for null.
func displayValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
