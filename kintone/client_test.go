package kintone_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/testsupport"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/kintone/kintonetest"
)

const testToken = "Tk9sZWFrc0FsbG93ZWQxMjM0NTY3ODkwYWJjZGVm"

// testBundle is one in-memory Kintone with one app and a client for it.
type testBundle struct {
	srv      *kintonetest.Server
	app      *kintonetest.App
	client   *kintone.Client
	logs     *testsupport.SyncBuffer
	requests *testsupport.RequestLog
}

type setupOptions struct {
	app    func(*kintonetest.AppConfig)
	client func(*kintone.Config)
}

func setup(t *testing.T, opts ...setupOptions) *testBundle {
	t.Helper()
	appCfg := kintonetest.AppConfig{AppID: 7, APIToken: testToken}
	for _, o := range opts {
		if o.app != nil {
			o.app(&appCfg)
		}
	}
	srv := kintonetest.NewServer()
	t.Cleanup(srv.Close)
	b := &testBundle{
		srv:      srv,
		app:      srv.AddApp("acme", appCfg),
		logs:     &testsupport.SyncBuffer{},
		requests: &testsupport.RequestLog{},
	}
	b.client = b.newClient(t, func(cfg *kintone.Config) {
		for _, o := range opts {
			if o.client != nil {
				o.client(cfg)
			}
		}
	})
	return b
}

// newClient returns a client for the bundle's app that logs at debug level
// into b.logs and records requests into b.requests.
func (b *testBundle) newClient(t *testing.T, mutate func(*kintone.Config)) *kintone.Client {
	t.Helper()
	cfg := &kintone.Config{
		BaseURL:               b.app.URL(),
		AppID:                 b.app.ID(),
		APIToken:              testToken,
		AllowInsecureLoopback: true,
		Timeout:               5 * time.Second,
		OnRequest:             b.requests.Record,
		Logger:                slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(cfg)
	}
	c, err := kintone.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// mustAdd adds rec through the bundle's client and returns its ID, failing
// the test if it cannot: for the records a test needs, not for testing Add.
func (b *testBundle) mustAdd(t *testing.T, rec kintone.Record) string {
	t.Helper()
	id, err := b.client.Add(context.Background(), rec)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return id
}

func callRecord(callID string) kintone.Record {
	return kintone.Record{
		"call_id":          callID,
		"call_date":        "2025-04-01",
		"started_at":       time.Date(2025, 4, 1, 18, 30, 45, 0, time.FixedZone("JST", 9*3600)),
		"duration_seconds": 312,
		"direction":        "inbound",
		"primary_intent":   "billing question",
		"summary":          "Customer asked about the March invoice.",
		"quality_score":    87.5,
		"transcript_url":   "https://app.koeiq.example/calls/" + callID,
		"subject":          "KoeIQ Call — " + callID,
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	id, err := b.client.Add(ctx, callRecord("c-1"))
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if id != "1" {
		t.Errorf("first record ID = %q, want \"1\"", id)
	}
	got, ok := b.app.Record(id)
	if !ok {
		t.Fatalf("record %s not stored", id)
	}
	want := map[string]any{
		"call_id":          "c-1",
		"call_date":        "2025-04-01",
		"started_at":       "2025-04-01T09:30:00Z", // UTC, seconds dropped
		"duration_seconds": "312",
		"quality_score":    "87.5",
		"direction":        "inbound",
		"$revision":        "1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("stored %s = %#v, want %#v", k, got[k], v)
		}
	}

	id2, err := b.client.Add(ctx, callRecord("c-2"))
	if err != nil || id2 != "2" {
		t.Fatalf("second Add = %q, %v; want \"2\"", id2, err)
	}
	if n := b.app.Requests("add"); n != 2 {
		t.Errorf("server saw %d add requests, want 2", n)
	}
}

func TestAddIgnoresUnknownFieldCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)

	rec := callRecord("c-1")
	rec["no_such_field"] = "dropped, as Kintone drops it"
	id, err := b.client.Add(context.Background(), rec)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	got, _ := b.app.Record(id)
	if _, ok := got["no_such_field"]; ok {
		t.Error("unknown field code was stored")
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	id := b.mustAdd(t, callRecord("c-1"))
	if err := b.client.Update(ctx, id, kintone.Record{"summary": "Re-analysed.", "quality_score": 91}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, _ := b.app.Record(id)
	if got["summary"] != "Re-analysed." || got["quality_score"] != "91" {
		t.Errorf("updated fields = %q, %q", got["summary"], got["quality_score"])
	}
	if got["primary_intent"] != "billing question" {
		t.Errorf("untouched field changed to %q", got["primary_intent"])
	}
	if got["$revision"] != "2" {
		t.Errorf("revision = %q, want \"2\"", got["$revision"])
	}

	t.Run("deleted record", func(t *testing.T) {
		b.app.DeleteRecord(id)
		err := b.client.Update(ctx, id, kintone.Record{"summary": "x"})
		if !kintone.IsNotFound(err) {
			t.Fatalf("Update of a deleted record: %v, want IsNotFound", err)
		}
		if e := testsupport.ErrorAs[*kintone.APIError](t, err); e.StatusCode != 404 || e.Code != "GAIA_RE01" {
			t.Errorf("got %d %s, want 404 GAIA_RE01", e.StatusCode, e.Code)
		}
		if c := kintone.Classify(err); c != crm.ClassData {
			t.Errorf("Classify = %v, want data", c)
		}
	})

	t.Run("malformed ID is refused before sending", func(t *testing.T) {
		before := b.app.Requests("")
		for _, bad := range []string{"", "0", "abc", "1 or 1", "-3"} {
			if err := b.client.Update(ctx, bad, kintone.Record{}); !errors.Is(err, kintone.ErrInvalidInput) {
				t.Errorf("Update(%q) = %v, want ErrInvalidInput", bad, err)
			}
		}
		if after := b.app.Requests(""); after != before {
			t.Errorf("%d requests sent for invalid IDs", after-before)
		}
	})
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	rec := callRecord("c-42")
	id, created, err := b.client.Upsert(ctx, "call_id", "c-42", rec)
	if err != nil || !created {
		t.Fatalf("first Upsert = %q, %t, %v; want created", id, created, err)
	}

	rec["summary"] = "Re-analysed."
	id2, created, err := b.client.Upsert(ctx, "call_id", "c-42", rec)
	if err != nil || created || id2 != id {
		t.Fatalf("second Upsert = %q, %t, %v; want update of %q", id2, created, err, id)
	}

	records := b.app.Records()
	if len(records) != 1 {
		t.Fatalf("%d records, want 1", len(records))
	}
	if records[0]["summary"] != "Re-analysed." || records[0]["call_id"] != "c-42" {
		t.Errorf("record = %v", records[0])
	}
	if n := b.app.Requests("upsert"); n != 2 {
		t.Errorf("server saw %d upsert requests, want 2", n)
	}

	t.Run("key missing from the record is set", func(t *testing.T) {
		id, created, err := b.client.Upsert(ctx, "call_id", "c-43", kintone.Record{"summary": "no key here"})
		if err != nil || !created {
			t.Fatalf("Upsert = %q, %t, %v", id, created, err)
		}
		got, _ := b.app.Record(id)
		if got["call_id"] != "c-43" {
			t.Errorf("call_id = %q, want c-43", got["call_id"])
		}
	})

	t.Run("refused before sending", func(t *testing.T) {
		before := b.app.Requests("")
		tests := []struct {
			name, field, value string
			rec                kintone.Record
		}{
			{"key differs from record", "call_id", "c-1", kintone.Record{"call_id": "c-2"}},
			{"empty key", "call_id", "", kintone.Record{}},
			{"$id as key", "$id", "1", kintone.Record{}},
			{"malformed key field", "call id", "c-1", kintone.Record{}},
		}
		for _, tt := range tests {
			if _, _, err := b.client.Upsert(ctx, tt.field, tt.value, tt.rec); !errors.Is(err, kintone.ErrInvalidInput) {
				t.Errorf("%s: Upsert = %v, want ErrInvalidInput", tt.name, err)
			}
		}
		if after := b.app.Requests(""); after != before {
			t.Errorf("%d requests sent for invalid upserts", after-before)
		}
	})

	t.Run("key field that is not unique", func(t *testing.T) {
		_, _, err := b.client.Upsert(ctx, "subject", "KoeIQ Call — c-1", kintone.Record{})
		if e := testsupport.ErrorAs[*kintone.APIError](t, err); e.Code != "CB_VA01" {
			t.Errorf("code = %s, want CB_VA01", e.Code)
		}
		if c := kintone.Classify(err); c != crm.ClassData {
			t.Errorf("Classify = %v, want data", c)
		}
	})
}

// TestUpsertWithoutUpsertMode covers a Kintone that ignores "upsert": the
// client falls back to add, and to an update by key when it loses a race.
func TestUpsertWithoutUpsertMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	noUpsertMode := setupOptions{app: func(c *kintonetest.AppConfig) { c.NoUpsertMode = true }}

	t.Run("create then update", func(t *testing.T) {
		t.Parallel()
		b := setup(t, noUpsertMode)

		id, created, err := b.client.Upsert(ctx, "call_id", "c-1", callRecord("c-1"))
		if err != nil || !created {
			t.Fatalf("first Upsert = %q, %t, %v; want created", id, created, err)
		}
		id2, created, err := b.client.Upsert(ctx, "call_id", "c-1", kintone.Record{"summary": "v2"})
		if err != nil || created || id2 != id {
			t.Fatalf("second Upsert = %q, %t, %v; want update of %q", id2, created, err, id)
		}
		if n := len(b.app.Records()); n != 1 {
			t.Errorf("%d records, want 1", n)
		}
		if got := [2]int{b.app.Requests("upsert"), b.app.Requests("add")}; got != [2]int{2, 1} {
			t.Errorf("upsert, add requests = %v, want [2 1]", got)
		}
	})

	t.Run("lost race to a concurrent writer", func(t *testing.T) {
		t.Parallel()
		b := setup(t, noUpsertMode)
		other := b.newClient(t, nil)

		// Just before the fallback's add goes out, another writer creates
		// the record, so the add fails on the unique key.
		var once sync.Once
		racer := b.newClient(t, func(cfg *kintone.Config) {
			cfg.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if req.Method == http.MethodPost {
					once.Do(func() {
						if _, err := other.Add(req.Context(), kintone.Record{"call_id": "c-9", "summary": "theirs"}); err != nil {
							t.Errorf("concurrent Add: %v", err)
						}
					})
				}
				return http.DefaultTransport.RoundTrip(req)
			})
		})

		id, created, err := racer.Upsert(ctx, "call_id", "c-9", kintone.Record{"summary": "ours"})
		if err != nil || created {
			t.Fatalf("Upsert = %q, %t, %v; want an update", id, created, err)
		}
		records := b.app.Records()
		if len(records) != 1 || records[0]["$id"] != id || records[0]["summary"] != "ours" {
			t.Errorf("records = %v, want one with our summary and ID %s", records, id)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestConcurrentUpsertsCreateOneRecord(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	const writers = 16
	var wg sync.WaitGroup
	ids := make([]string, writers)
	createdCount := make([]bool, writers)
	for i := range writers {
		wg.Go(func() {
			id, created, err := b.client.Upsert(ctx, "call_id", "c-same", kintone.Record{"summary": "writer " + strconv.Itoa(i)})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
			ids[i], createdCount[i] = id, created
		})
	}
	wg.Wait()

	if n := len(b.app.Records()); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
	created := 0
	for i := range writers {
		if ids[i] != ids[0] {
			t.Errorf("writer %d got ID %q, writer 0 %q", i, ids[i], ids[0])
		}
		if createdCount[i] {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d writers report creating the record, want 1", created)
	}
}

func TestAddMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("in order", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ids, err := b.client.AddMany(ctx, []kintone.Record{callRecord("c-1"), callRecord("c-2"), callRecord("c-3")})
		if err != nil {
			t.Fatalf("AddMany: %v", err)
		}
		if !slices.Equal(ids, []string{"1", "2", "3"}) {
			t.Errorf("IDs = %q, want [1 2 3]", ids)
		}
		for i, id := range ids {
			got, _ := b.app.Record(id)
			if want := fmt.Sprintf("c-%d", i+1); got["call_id"] != want {
				t.Errorf("record %s has call_id %q, want %q", id, got["call_id"], want)
			}
		}
	})

	t.Run("all or nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		bad := callRecord("c-2")
		bad["duration_seconds"] = "twelve"
		_, err := b.client.AddMany(ctx, []kintone.Record{callRecord("c-1"), bad, callRecord("c-3")})
		e := testsupport.ErrorAs[*kintone.APIError](t, err)
		if e.Code != "CB_VA01" || e.StatusCode != 400 {
			t.Errorf("got %d %s, want 400 CB_VA01", e.StatusCode, e.Code)
		}
		if _, ok := e.Fields["records[1][duration_seconds].value"]; !ok {
			t.Errorf("Fields = %v, want the key of record 1", e.Fields)
		}
		if n := len(b.app.Records()); n != 0 {
			t.Errorf("%d records added by a failed bulk request, want 0", n)
		}
	})

	t.Run("duplicate keys within one request", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.client.AddMany(ctx, []kintone.Record{callRecord("c-1"), callRecord("c-1")})
		if e := testsupport.ErrorAs[*kintone.APIError](t, err); e.Code != "CB_VA01" || !slices.Contains(e.FieldCodes(), "call_id") {
			t.Errorf("got %v, want a CB_VA01 on call_id", e)
		}
		if n := len(b.app.Records()); n != 0 {
			t.Errorf("%d records added, want 0", n)
		}
	})

	t.Run("limit of 100", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		recs := make([]kintone.Record, kintone.MaxBulkRecords+1)
		for i := range recs {
			recs[i] = kintone.Record{"call_id": fmt.Sprintf("c-%d", i)}
		}
		if _, err := b.client.AddMany(ctx, recs); !errors.Is(err, kintone.ErrInvalidInput) {
			t.Errorf("AddMany(101) = %v, want ErrInvalidInput", err)
		}
		if n := b.app.Requests(""); n != 0 {
			t.Errorf("%d requests sent for 101 records", n)
		}
		ids, err := b.client.AddMany(ctx, recs[:kintone.MaxBulkRecords])
		if err != nil || len(ids) != 100 {
			t.Errorf("AddMany(100) = %d IDs, %v", len(ids), err)
		}
	})

	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ids, err := b.client.AddMany(ctx, nil)
		if err != nil || ids != nil || b.app.Requests("") != 0 {
			t.Errorf("AddMany(nil) = %v, %v after %d requests", ids, err, b.app.Requests(""))
		}
	})
}

func TestFindIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	// subject is not unique, so several records can share a value; these
	// values try to break out of the query's string literal.
	tricky := []string{
		`plain`,
		`say "hi"`,
		`back\slash`,
		`ends with backslash\`,
		`x" or subject != "`,
		`") or ($id > 0`,
		`日本語の件名`,
		`single 'quotes'`,
	}
	want := make(map[string][]string)
	for round := range 2 {
		for i, subject := range tricky {
			id, err := b.client.Add(ctx, kintone.Record{"call_id": fmt.Sprintf("c-%d-%d", round, i), "subject": subject})
			if err != nil {
				t.Fatalf("Add(%q): %v", subject, err)
			}
			want[subject] = append(want[subject], id)
		}
	}
	for _, subject := range tricky {
		got, err := b.client.FindIDs(ctx, "subject", subject)
		if err != nil {
			t.Errorf("FindIDs(%q): %v", subject, err)
			continue
		}
		if !slices.Equal(got, want[subject]) {
			t.Errorf("FindIDs(%q) = %q, want %q", subject, got, want[subject])
		}
	}

	t.Run("no match", func(t *testing.T) {
		got, err := b.client.FindIDs(ctx, "call_id", "missing")
		if err != nil || len(got) != 0 {
			t.Errorf("FindIDs = %q, %v; want none", got, err)
		}
	})

	t.Run("unknown field", func(t *testing.T) {
		_, err := b.client.FindIDs(ctx, "no_such_field", "x")
		if e := testsupport.ErrorAs[*kintone.APIError](t, err); e.Code != "GAIA_IQ11" {
			t.Errorf("code = %s, want GAIA_IQ11", e.Code)
		}
		if c := kintone.Classify(err); c != crm.ClassData {
			t.Errorf("Classify = %v, want data", c)
		}
	})

	t.Run("field code that could inject", func(t *testing.T) {
		before := b.app.Requests("query")
		for _, field := range []string{`subject = "x" or subject`, "a b", "", "(subject)"} {
			if _, err := b.client.FindIDs(ctx, field, "x"); !errors.Is(err, kintone.ErrInvalidInput) {
				t.Errorf("FindIDs(%q) = %v, want ErrInvalidInput", field, err)
			}
		}
		if n := b.app.Requests("query") - before; n != 0 {
			t.Errorf("%d queries sent for invalid field codes", n)
		}
	})
}

func TestFindIDsPagesPast500(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	const total = 1001
	var want []string
	for start := 0; start < total; start += kintone.MaxBulkRecords {
		var recs []kintone.Record
		for i := start; i < min(start+kintone.MaxBulkRecords, total); i++ {
			recs = append(recs, kintone.Record{"call_id": fmt.Sprintf("c-%d", i), "subject": "same"})
		}
		ids, err := b.client.AddMany(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ids...)
	}
	b.mustAdd(t, kintone.Record{"call_id": "other", "subject": "different"})

	got, err := b.client.FindIDs(ctx, "subject", "same")
	if err != nil {
		t.Fatalf("FindIDs: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("FindIDs returned %d IDs, want %d in ascending order", len(got), len(want))
	}
	if n := b.app.Requests("query"); n != 3 {
		t.Errorf("%d queries, want 3 pages of at most 500", n)
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	b := setup(t)

	fields, err := b.client.Fields(context.Background())
	if err != nil {
		t.Fatalf("Fields: %v", err)
	}
	for _, def := range kintonetest.CallApp() {
		f, ok := fields[def.Code]
		if !ok {
			t.Errorf("field %s missing", def.Code)
			continue
		}
		if !reflect.DeepEqual(f, def) {
			t.Errorf("field %s = %+v, want %+v", def.Code, f, def)
		}
	}
	if f := fields["Record_number"]; f.Type != "RECORD_NUMBER" {
		t.Errorf("Record_number field = %+v", f)
	}
}

func TestOnRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	b.client.Add(ctx, callRecord("c-1"))
	b.client.Upsert(ctx, "call_id", "c-1", kintone.Record{})
	b.client.Add(ctx, callRecord("c-1")) // unique violation
	b.client.FindIDs(ctx, "call_id", "c-1")
	b.client.Fields(ctx)
	b.client.AddMany(ctx, []kintone.Record{callRecord("c-2")})
	b.client.Update(ctx, "1", kintone.Record{})

	want := []string{"add 200", "upsert 200", "add 400", "query 200", "fields 200", "add_many 200", "update 200"}
	if got := b.requests.Calls(); !slices.Equal(got, want) {
		t.Errorf("OnRequest saw %v, want %v", got, want)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()

	type errorCase struct {
		name       string
		arrange    func(t *testing.T, b *testBundle) *kintone.Client // nil = b.client
		rec        kintone.Record
		wantClass  crm.Class
		wantStatus int
		wantCode   string
		wantField  string // a key expected in APIError.Fields
	}
	// withConfig arranges a client of its own, configured by mod.
	withConfig := func(mod func(*kintone.Config)) func(*testing.T, *testBundle) *kintone.Client {
		return func(t *testing.T, b *testBundle) *kintone.Client { return b.newClient(t, mod) }
	}
	// withFault arranges for the app to answer with f.
	withFault := func(f kintonetest.Fault) func(*testing.T, *testBundle) *kintone.Client {
		return func(_ *testing.T, b *testBundle) *kintone.Client {
			b.app.InjectFault(f)
			return nil
		}
	}
	// invalid is a record Kintone refuses with CB_VA01 for field.
	invalid := func(name string, rec kintone.Record, field string) errorCase {
		return errorCase{name: name, rec: rec, wantClass: crm.ClassData, wantStatus: 400, wantCode: "CB_VA01", wantField: field}
	}
	tests := []errorCase{
		{
			name:      "wrong token",
			arrange:   withConfig(func(c *kintone.Config) { c.APIToken = "wrong-token" }),
			wantClass: crm.ClassAuth, wantStatus: 400, wantCode: "GAIA_IA02",
		},
		{
			name: "token of another app in the domain",
			arrange: func(t *testing.T, b *testBundle) *kintone.Client {
				b.srv.AddApp("acme", kintonetest.AppConfig{AppID: 8, APIToken: "other-app-token"})
				return b.newClient(t, func(c *kintone.Config) { c.APIToken = "other-app-token" })
			},
			wantClass: crm.ClassAuth, wantStatus: 400, wantCode: "GAIA_IA02",
		},
		{
			name: "rotated token",
			arrange: func(t *testing.T, b *testBundle) *kintone.Client {
				b.app.SetAPIToken("new-token")
				return nil
			},
			wantClass: crm.ClassAuth, wantStatus: 400, wantCode: "GAIA_IA02",
		},
		{
			name:      "same app's token twice",
			arrange:   withConfig(func(c *kintone.Config) { c.APIToken = testToken + "," + testToken }),
			wantClass: crm.ClassAuth, wantStatus: 400, wantCode: "GAIA_DA03",
		},
		{
			name:      "unknown app",
			arrange:   withConfig(func(c *kintone.Config) { c.AppID = 999 }),
			wantClass: crm.ClassAuth, wantStatus: 404, wantCode: "GAIA_AP01",
		},
		{
			name: "base URL of no Kintone domain",
			arrange: func(t *testing.T, b *testBundle) *kintone.Client {
				return b.newClient(t, func(c *kintone.Config) { c.BaseURL = b.srv.URL() + "/org/nobody" })
			},
			wantClass: crm.ClassAuth, wantStatus: 404,
		},
		invalid("required field missing", kintone.Record{"summary": "no call_id"}, "record.call_id.value"),
		invalid("number with letters", kintone.Record{"call_id": "c-1", "duration_seconds": "12s"}, "record[duration_seconds].value"),
		invalid("date in another format", kintone.Record{"call_id": "c-1", "call_date": "04/01/2025"}, "record.call_date.value"),
		invalid("datetime without zone", kintone.Record{"call_id": "c-1", "started_at": "2025-04-01 09:30:00"}, "record.started_at.value"),
		invalid("text longer than its maximum", kintone.Record{"call_id": "c-1", "primary_intent": strings.Repeat("あ", 256)}, "record.primary_intent.value"),
		invalid("emoji count as two UTF-16 units", kintone.Record{"call_id": "c-1", "primary_intent": strings.Repeat("😀", 128)}, "record.primary_intent.value"),
		invalid("value not among the options", kintone.Record{"call_id": "c-1", "direction": "sideways"}, "record.direction.value"),
		invalid("link that is not a URL", kintone.Record{"call_id": "c-1", "transcript_url": "javascript:alert(1)"}, "record.transcript_url.value"),
		{
			name: "unique violation",
			arrange: func(t *testing.T, b *testBundle) *kintone.Client {
				b.mustAdd(t, kintone.Record{"call_id": "c-1"})
				return nil
			},
			rec:       kintone.Record{"call_id": "c-1"},
			wantClass: crm.ClassData, wantStatus: 400, wantCode: "CB_VA01", wantField: "record.call_id.value",
		},
		{
			name:      "list for a text field",
			rec:       kintone.Record{"call_id": "c-1", "summary": []string{"a", "b"}},
			wantClass: crm.ClassData, wantStatus: 400, wantCode: "CB_IJ01",
		},
		{
			name:      "load balancer 503",
			arrange:   withFault(kintonetest.Fault{Kind: kintonetest.FaultUnavailable}),
			rec:       kintone.Record{"call_id": "c-1"},
			wantClass: crm.ClassRetryable, wantStatus: 503,
		},
		{
			name:      "database lock",
			arrange:   withFault(kintonetest.Fault{Kind: kintonetest.FaultDatabaseLock, Op: "add"}),
			rec:       kintone.Record{"call_id": "c-1"},
			wantClass: crm.ClassRetryable, wantStatus: 520, wantCode: "GAIA_RE18",
		},
		{
			name:      "concurrency limit",
			arrange:   withFault(kintonetest.Fault{Kind: kintonetest.FaultRateLimit}),
			rec:       kintone.Record{"call_id": "c-1"},
			wantClass: crm.ClassRateLimited, wantStatus: 429, wantCode: "GAIA_TO04",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			client := b.client
			if tt.arrange != nil {
				if c := tt.arrange(t, b); c != nil {
					client = c
				}
			}
			rec := tt.rec
			if rec == nil {
				rec = kintone.Record{"call_id": "c-1"}
			}
			_, err := client.Add(context.Background(), rec)
			if err == nil {
				t.Fatal("Add succeeded, want an error")
			}
			if c := kintone.Classify(err); c != tt.wantClass {
				t.Errorf("Classify(%v) = %v, want %v", err, c, tt.wantClass)
			}
			e := testsupport.ErrorAs[*kintone.APIError](t, err)
			if e.StatusCode != tt.wantStatus || e.Code != tt.wantCode || e.Op != "add" {
				t.Errorf("got op %s, %d %q, want add, %d %q", e.Op, e.StatusCode, e.Code, tt.wantStatus, tt.wantCode)
			}
			if tt.wantField != "" {
				if msgs := e.Fields[tt.wantField]; len(msgs) == 0 {
					t.Errorf("Fields = %v, want messages for %s", e.Fields, tt.wantField)
				}
			}
		})
	}
}

func TestTransportFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOptions{client: func(c *kintone.Config) { c.Timeout = 50 * time.Millisecond }})
		b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultLatency, Latency: time.Minute})
		_, err := b.client.Add(ctx, callRecord("c-1"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Add = %v, want a deadline error", err)
		}
		if c := kintone.Classify(err); c != crm.ClassRetryable {
			t.Errorf("Classify = %v, want retryable", c)
		}
		if got := b.requests.Calls(); !slices.Equal(got, []string{"add 0"}) {
			t.Errorf("OnRequest saw %v, want add with status 0", got)
		}
	})

	t.Run("caller's context", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := b.client.Add(cctx, callRecord("c-1"))
		if !errors.Is(err, context.Canceled) || kintone.Classify(err) != crm.ClassRetryable {
			t.Errorf("Add = %v (%v), want a retryable context.Canceled", err, kintone.Classify(err))
		}
	})

	t.Run("server gone", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.srv.Close()
		_, err := b.client.Add(ctx, callRecord("c-1"))
		if err == nil || kintone.Classify(err) != crm.ClassRetryable {
			t.Errorf("Add = %v (%v), want a retryable network error", err, kintone.Classify(err))
		}
	})

	t.Run("connection dropped after the write committed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultDropAfterCommit, Op: "upsert"})

		_, _, err := b.client.Upsert(ctx, "call_id", "c-1", callRecord("c-1"))
		if err == nil || kintone.Classify(err) != crm.ClassRetryable {
			t.Fatalf("Upsert = %v (%v), want a retryable error", err, kintone.Classify(err))
		}
		// The write happened although the client could not know; the
		// retry must update it, not create a second record.
		id, created, err := b.client.Upsert(ctx, "call_id", "c-1", callRecord("c-1"))
		if err != nil || created {
			t.Fatalf("retry = %q, %t, %v; want an update", id, created, err)
		}
		if n := len(b.app.Records()); n != 1 {
			t.Errorf("%d records after a retried upsert, want 1", n)
		}
	})

	t.Run("faults wear off", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultUnavailable, Times: 2})
		for i := range 2 {
			if _, err := b.client.Add(ctx, callRecord("c-1")); kintone.Classify(err) != crm.ClassRetryable {
				t.Fatalf("attempt %d: %v, want retryable", i, err)
			}
		}
		if _, err := b.client.Add(ctx, callRecord("c-1")); err != nil {
			t.Fatalf("third attempt: %v", err)
		}
	})
}

func TestNewClientRefusesBadConfig(t *testing.T) {
	t.Parallel()

	valid := func() *kintone.Config {
		return &kintone.Config{BaseURL: "https://acme.cybozu.com", AppID: 1, APIToken: testToken}
	}
	tests := []struct {
		name   string
		mutate func(*kintone.Config)
	}{
		{"not Kintone", func(c *kintone.Config) { c.BaseURL = "https://evil.example" }},
		{"loopback without the flag", func(c *kintone.Config) { c.BaseURL = "http://127.0.0.1:8080" }},
		{"no app", func(c *kintone.Config) { c.AppID = 0 }},
		{"negative app", func(c *kintone.Config) { c.AppID = -1 }},
		{"no token", func(c *kintone.Config) { c.APIToken = "" }},
		{"blank token", func(c *kintone.Config) { c.APIToken = "   " }},
		{"token with a newline", func(c *kintone.Config) { c.APIToken = testToken + "\r\nX-Evil: 1" }},
		{"token with non-ASCII", func(c *kintone.Config) { c.APIToken = testToken + "é" }},
		{"negative timeout", func(c *kintone.Config) { c.Timeout = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tt.mutate(cfg)
			c, err := kintone.NewClient(cfg)
			if err == nil {
				t.Fatalf("NewClient = %v, want an error", c)
			}
			if !errors.Is(err, kintone.ErrInvalidConfig) || kintone.Classify(err) != crm.ClassAuth {
				t.Errorf("error %v is not a ClassAuth ErrInvalidConfig", err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}

	if _, err := kintone.NewClient(nil); !errors.Is(err, kintone.ErrInvalidConfig) {
		t.Errorf("NewClient(nil) = %v", err)
	}
	if _, err := kintone.NewClient(valid()); err != nil {
		t.Errorf("NewClient(valid) = %v", err)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()

	// A second server stands in for wherever a redirect would lead.
	var leaked sync.Mutex
	var tokensSeen []string
	target := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Lock()
		tokensSeen = append(tokensSeen, r.Header.Get("X-Cybozu-API-Token"))
		leaked.Unlock()
		w.Write([]byte(`{"id":"1","revision":"1"}`))
	}))
	redirector := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
	}))

	client, err := kintone.NewClient(&kintone.Config{BaseURL: redirector, AppID: 1, APIToken: testToken, AllowInsecureLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Add(context.Background(), kintone.Record{"call_id": "c-1"})
	e := testsupport.ErrorAs[*kintone.APIError](t, err)
	if e.StatusCode != http.StatusTemporaryRedirect || kintone.Classify(err) != crm.ClassAuth {
		t.Errorf("got %d (%v), want 307 and ClassAuth", e.StatusCode, kintone.Classify(err))
	}
	leaked.Lock()
	defer leaked.Unlock()
	if len(tokensSeen) != 0 {
		t.Errorf("the redirect target received %d requests", len(tokensSeen))
	}
}

func TestRecordURL(t *testing.T) {
	t.Parallel()
	c, err := kintone.NewClient(&kintone.Config{BaseURL: "https://acme.cybozu.com", AppID: 42, APIToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.RecordURL("17"), "https://acme.cybozu.com/k/42/show#record=17"; got != want {
		t.Errorf("RecordURL = %q, want %q", got, want)
	}
	if c.AppID() != 42 {
		t.Errorf("AppID = %d", c.AppID())
	}
}
