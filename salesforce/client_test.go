package salesforce_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

const (
	testClientID     = "3MVG9-test-client-id"
	testClientSecret = "s3cr3t-CONSUMER-secret-7f1c2a"
)

// testBundle is one org on its own test server and a client for it.
type testBundle struct {
	srv    *salesforcetest.Server
	org    *salesforcetest.Org
	client *salesforce.Client
	ops    *testsupport.RequestLog
}

// setup starts a test server with one org configured by orgCfg (credentials
// default to the test ones) and a client for it; mod may change the
// client's Config.
func setup(t *testing.T, orgCfg salesforcetest.OrgConfig, mod ...func(*salesforce.Config)) *testBundle {
	t.Helper()
	srv := salesforcetest.NewServer()
	t.Cleanup(srv.Close)
	if orgCfg.ClientID == "" {
		orgCfg.ClientID = testClientID
	}
	if orgCfg.ClientSecret == "" {
		orgCfg.ClientSecret = testClientSecret
	}
	org := srv.AddOrg("acme", orgCfg)
	ops := &testsupport.RequestLog{}
	cfg := &salesforce.Config{
		InstanceURL:           org.URL(),
		ClientID:              testClientID,
		ClientSecret:          testClientSecret,
		AllowInsecureLoopback: true,
		Timeout:               10 * time.Second,
		OnRequest:             ops.Record,
	}
	for _, m := range mod {
		m(cfg)
	}
	client, err := salesforce.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return &testBundle{srv: srv, org: org, client: client, ops: ops}
}

func task(subject string) salesforce.Fields {
	return salesforce.Fields{
		"Subject":               subject,
		"Status":                "Completed",
		"TaskSubtype":           "Call",
		"ActivityDate":          "2026-01-15",
		"CallDurationInSeconds": 312,
		"CallType":              "Inbound",
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, salesforcetest.OrgConfig{})

	id := createTask(t, ctx, b, "KoeIQ Call — c-1")
	if len(id) != 18 || !strings.HasPrefix(id, "00T") {
		t.Errorf("id = %q, want 18 characters starting with 00T", id)
	}
	rec, ok := b.org.Record("Task", id)
	if !ok {
		t.Fatalf("record %s not in the org", id)
	}
	for k, want := range map[string]any{
		"Subject": "KoeIQ Call — c-1", "Status": "Completed", "TaskSubtype": "Call",
		"ActivityDate": "2026-01-15", "CallDurationInSeconds": 312.0, "Priority": "Normal",
		"OwnerId": b.org.UserID(),
	} {
		if rec[k] != want {
			t.Errorf("record[%s] = %#v, want %#v", k, rec[k], want)
		}
	}
	if got, want := b.ops.Calls(), []string{"token 200", "create 201"}; !slices.Equal(got, want) {
		t.Errorf("OnRequest saw %q, want %q", got, want)
	}
	if got := b.client.InstanceURL(); got != b.org.URL() {
		t.Errorf("InstanceURL() = %q, want %q", got, b.org.URL())
	}
}

func TestTokenIsCachedAndReused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	orgTest(t, "sequential", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		for i := range 5 {
			createTask(t, ctx, b, fmt.Sprint("c-", i))
		}
		wantRequests(t, b, "token", 1)
		wantRequests(t, b, "create", 5)
	})

	orgTest(t, "concurrent first calls share one token request", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		const n = 20
		createConcurrently(t, ctx, b, n)
		wantRequests(t, b, "token", 1)
		if got := len(b.org.Records("Task")); got != n {
			t.Errorf("records = %d, want %d", got, n)
		}
	})
}

func TestExpiredTokenIsRefreshedOnceAndRetried(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	orgTest(t, "one call", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		createTask(t, ctx, b, "c-1")
		b.org.ExpireTokens()
		if _, err := b.client.Create(ctx, "Task", task("c-2")); err != nil {
			t.Fatalf("Create after ExpireTokens: %v", err)
		}
		wantRequests(t, b, "token", 2)
		wantRequests(t, b, "create", 3) // ok, 401, retried
		if got := len(b.org.Records("Task")); got != 2 {
			t.Errorf("records = %d, want 2", got)
		}
	})

	orgTest(t, "concurrent 401s trigger one refresh", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		if err := b.client.CheckCredentials(ctx); err != nil {
			t.Fatalf("CheckCredentials: %v", err)
		}
		b.org.ExpireTokens()
		const n = 10
		createConcurrently(t, ctx, b, n)
		wantRequests(t, b, "token", 2) // one initial, one refresh
		if got := len(b.org.Records("Task")); got != n {
			t.Errorf("records = %d, want %d", got, n)
		}
	})

	orgTest(t, "persistent INVALID_SESSION_ID is retried once then retryable", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		b.org.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.FaultInvalidSession, Count: 2})
		_, err := b.client.Create(ctx, "Task", task("c-1"))
		ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
		if ae.StatusCode != http.StatusUnauthorized || ae.ErrorCode != "INVALID_SESSION_ID" {
			t.Errorf("error = %v, want 401 INVALID_SESSION_ID", ae)
		}
		if c := salesforce.Classify(err); c != crm.ClassRetryable {
			t.Errorf("Classify = %v, want retryable", c)
		}
		wantRequests(t, b, "create", 2)
		wantRequests(t, b, "token", 2)
	})
}

func TestCheckCredentialsFetchesANewToken(t *testing.T) {
	t.Parallel()
	b := setup(t, salesforcetest.OrgConfig{})
	for range 2 {
		if err := b.client.CheckCredentials(t.Context()); err != nil {
			t.Fatalf("CheckCredentials: %v", err)
		}
	}
	wantRequests(t, b, "token", 2)
	if got := b.org.Requests("create") + b.org.Requests("unknown"); got != 0 {
		t.Errorf("API requests = %d, want 0", got)
	}
}

// A token request runs on the Client's goroutine, detached from the caller
// who started it; Close cancels it and returns only once it has returned.
func TestCloseEndsTheTokenRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, salesforcetest.OrgConfig{})
	b.org.InjectFault(salesforcetest.Fault{Op: "token", Kind: salesforcetest.FaultLatency, Latency: time.Minute})

	// The first caller gives up; the request goes on without it.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := b.client.CheckCredentials(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CheckCredentials = %v, want context.DeadlineExceeded", err)
	}
	waiting := make(chan error, 1)
	go func() { _, err := b.client.Describe(t.Context(), "Task"); waiting <- err }()

	start := time.Now()
	b.client.Close()
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Close took %v with a token request hanging for a minute", elapsed)
	}
	if err := <-waiting; !errors.Is(err, salesforce.ErrClosed) {
		t.Errorf("a call waiting for the token got %v, want salesforce.ErrClosed", err)
	}
	if err := b.client.CheckCredentials(t.Context()); !errors.Is(err, salesforce.ErrClosed) {
		t.Errorf("CheckCredentials after Close = %v, want salesforce.ErrClosed", err)
	}
	wantRequests(t, b, "token", 1)
	b.client.Close() // again: a no-op
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		org        salesforcetest.OrgConfig
		prep       func(*salesforcetest.Org)
		clientID   string
		secret     string
		wantStatus int
		wantCode   string
		wantMsg    string
		wantClass  crm.Class
		wantAPIErr bool
	}{
		{name: "wrong secret", secret: "not-the-secret", wantStatus: 400, wantCode: "invalid_client",
			wantMsg: "invalid client credentials", wantClass: crm.ClassAuth, wantAPIErr: true},
		{name: "unknown client id", clientID: "nobody", wantStatus: 400, wantCode: "invalid_client_id",
			wantMsg: "client identifier invalid", wantClass: crm.ClassAuth, wantAPIErr: true},
		{name: "no run-as user", org: salesforcetest.OrgConfig{TokenError: "invalid_grant", TokenErrorDescription: "no client credentials user enabled"},
			wantStatus: 400, wantCode: "invalid_grant", wantMsg: "no client credentials user enabled", wantClass: crm.ClassAuth, wantAPIErr: true},
		{name: "app access", prep: func(o *salesforcetest.Org) {
			o.SetTokenError("invalid_app_access", "user is not admin approved to access this app")
		},
			wantStatus: 400, wantCode: "invalid_app_access", wantClass: crm.ClassAuth, wantAPIErr: true},
		{name: "rotated secret", prep: func(o *salesforcetest.Org) { o.SetClientSecret("rotated") },
			wantStatus: 400, wantCode: "invalid_client", wantClass: crm.ClassAuth, wantAPIErr: true},
		{name: "503", prep: func(o *salesforcetest.Org) {
			o.InjectFault(salesforcetest.Fault{Op: "token", Kind: salesforcetest.Fault503})
		}, wantStatus: 503, wantCode: "SERVER_UNAVAILABLE", wantClass: crm.ClassRetryable, wantAPIErr: true},
		{name: "login rate limit", prep: func(o *salesforcetest.Org) {
			o.InjectFault(salesforcetest.Fault{Op: "token", Kind: salesforcetest.FaultRequestLimit})
		}, wantStatus: 400, wantCode: "rate_limit_exceeded", wantClass: crm.ClassRateLimited, wantAPIErr: true},
		{name: "dropped connection", prep: func(o *salesforcetest.Org) {
			o.InjectFault(salesforcetest.Fault{Op: "token", Kind: salesforcetest.FaultDropAfterCommit})
		}, wantClass: crm.ClassRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.org, func(c *salesforce.Config) {
				if tt.clientID != "" {
					c.ClientID = tt.clientID
				}
				if tt.secret != "" {
					c.ClientSecret = crm.Secret(tt.secret)
				}
			})
			if tt.prep != nil {
				tt.prep(b.org)
			}
			_, err := b.client.Create(t.Context(), "Task", task("c-1"))
			if err == nil {
				t.Fatal("Create succeeded, want a token error")
			}
			if c := salesforce.Classify(err); c != tt.wantClass {
				t.Errorf("Classify(%v) = %v, want %v", err, c, tt.wantClass)
			}
			var ae *salesforce.APIError
			if errors.As(err, &ae) != tt.wantAPIErr {
				t.Fatalf("error %v (%T): *APIError = %t, want %t", err, err, ae != nil, tt.wantAPIErr)
			}
			if tt.wantAPIErr {
				if ae.Op != "token" || ae.StatusCode != tt.wantStatus || ae.ErrorCode != tt.wantCode {
					t.Errorf("error = {%q %d %q}, want {token %d %q}", ae.Op, ae.StatusCode, ae.ErrorCode, tt.wantStatus, tt.wantCode)
				}
				if !strings.Contains(ae.Message, tt.wantMsg) {
					t.Errorf("Message = %q, want it to contain %q", ae.Message, tt.wantMsg)
				}
			}
			for _, s := range []string{testClientSecret, tt.secret, "rotated"} {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains the secret %q", err, s)
				}
			}
			wantRequests(t, b, "create", 0) // none without a token
		})
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		sobject    string
		fields     salesforce.Fields
		prep       func(*salesforcetest.Org)
		wantStatus int
		wantCode   string
		wantClass  crm.Class
		wantFields []string
		wantMsg    string
		wantStored int // records of sobject afterwards
	}{
		{name: "503", prep: fault("create", salesforcetest.Fault503),
			wantStatus: 503, wantCode: "SERVER_UNAVAILABLE", wantClass: crm.ClassRetryable},
		{name: "lock", prep: fault("create", salesforcetest.FaultLockRow),
			wantStatus: 400, wantCode: "UNABLE_TO_LOCK_ROW", wantClass: crm.ClassRetryable},
		{name: "request limit fault", prep: fault("", salesforcetest.FaultRequestLimit),
			wantStatus: 403, wantCode: "REQUEST_LIMIT_EXCEEDED", wantClass: crm.ClassRateLimited},
		{name: "daily limit spent", prep: func(o *salesforcetest.Org) { o.SetAPIUsage(100_000) },
			wantStatus: 403, wantCode: "REQUEST_LIMIT_EXCEEDED", wantClass: crm.ClassRateLimited, wantMsg: "TotalRequests Limit exceeded."},
		{name: "string too long", fields: salesforce.Fields{"Subject": strings.Repeat("x", 256)},
			wantStatus: 400, wantCode: "STRING_TOO_LONG", wantClass: crm.ClassData, wantFields: []string{"Subject"},
			wantMsg: "Subject: data value too large: " + strings.Repeat("x", 256) + " (max length=255)"},
		{name: "emoji too long in UTF-16", fields: salesforce.Fields{"CallDisposition": strings.Repeat("😀", 128)},
			wantStatus: 400, wantCode: "STRING_TOO_LONG", wantClass: crm.ClassData, wantFields: []string{"CallDisposition"}},
		{name: "unknown field", fields: salesforce.Fields{"Foo__c": "x"},
			wantStatus: 400, wantCode: "INVALID_FIELD", wantClass: crm.ClassData, wantMsg: "No such column 'Foo__c' on sobject of type Task"},
		{name: "Id in body", fields: salesforce.Fields{"Id": "00T000000000001AAA"},
			wantStatus: 400, wantCode: "INVALID_FIELD", wantClass: crm.ClassData},
		{name: "bad date", fields: salesforce.Fields{"ActivityDate": "2026-02-30"},
			wantStatus: 400, wantCode: "JSON_PARSER_ERROR", wantClass: crm.ClassData},
		{name: "string for int", fields: salesforce.Fields{"CallDurationInSeconds": "42"},
			wantStatus: 400, wantCode: "JSON_PARSER_ERROR", wantClass: crm.ClassData},
		{name: "restricted picklist", fields: salesforce.Fields{"CallType": "Sideways"},
			wantStatus: 400, wantCode: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", wantClass: crm.ClassData, wantFields: []string{"CallType"}},
		{name: "read-only field", fields: salesforce.Fields{"IsClosed": true},
			wantStatus: 400, wantCode: "INVALID_FIELD_FOR_INSERT_UPDATE", wantClass: crm.ClassData, wantFields: []string{"IsClosed"}},
		{name: "required field set to null", fields: salesforce.Fields{"Status": nil},
			wantStatus: 400, wantCode: "REQUIRED_FIELD_MISSING", wantClass: crm.ClassData, wantFields: []string{"Status"}},
		{name: "malformed reference", fields: salesforce.Fields{"WhoId": "003-not-an-id"},
			wantStatus: 400, wantCode: "MALFORMED_ID", wantClass: crm.ClassData, wantFields: []string{"WhoId"}},
		{name: "unknown object", sobject: "Nope__c", fields: salesforce.Fields{"Name": "x"},
			wantStatus: 404, wantCode: "NOT_FOUND", wantClass: crm.ClassData},
		{name: "required field missing", sobject: "Call_Recording__c", fields: salesforce.Fields{"call_id__c": "c-1"},
			wantStatus: 400, wantCode: "REQUIRED_FIELD_MISSING", wantClass: crm.ClassData, wantFields: []string{"Name"}},
		{name: "duplicate unique value", sobject: "Call_Recording__c", fields: salesforce.Fields{"Name": "x", "call_id__c": "c-1"},
			prep: func(o *salesforcetest.Org) {
				o.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "x", "call_id__c": "c-1"})
			},
			wantStatus: 400, wantCode: "DUPLICATE_VALUE", wantClass: crm.ClassData, wantStored: 1},
	}
	for _, tt := range tests {
		orgTest(t, tt.name, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}}, func(t *testing.T, b *testBundle) {
			if tt.prep != nil {
				tt.prep(b.org)
			}
			sobject := cmp.Or(tt.sobject, "Task")
			fields := tt.fields
			if fields == nil {
				fields = task("c-1")
			}
			_, err := b.client.Create(t.Context(), sobject, fields)
			ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
			if ae.StatusCode != tt.wantStatus || ae.ErrorCode != tt.wantCode {
				t.Errorf("error = %v, want HTTP %d %s", ae, tt.wantStatus, tt.wantCode)
			}
			if c := salesforce.Classify(err); c != tt.wantClass {
				t.Errorf("Classify = %v, want %v", c, tt.wantClass)
			}
			if tt.wantFields != nil && !slices.Equal(ae.Fields, tt.wantFields) {
				t.Errorf("Fields = %q, want %q", ae.Fields, tt.wantFields)
			}
			if !strings.Contains(ae.Message, tt.wantMsg) || !strings.Contains(ae.Error(), tt.wantMsg) {
				t.Errorf("Message = %q, want it (and Error()) to contain %q", ae.Message, tt.wantMsg)
			}
			if ae.Op != "create "+sobject {
				t.Errorf("Op = %q, want %q", ae.Op, "create "+sobject)
			}
			if got := len(b.org.Records(sobject)); got != tt.wantStored {
				t.Errorf("records = %d, want %d", got, tt.wantStored)
			}
		})
	}
}

func fault(op string, kind salesforcetest.FaultKind) func(*salesforcetest.Org) {
	return func(o *salesforcetest.Org) { o.InjectFault(salesforcetest.Fault{Op: op, Kind: kind}) }
}

func TestTransientErrorsSucceedOnRetry(t *testing.T) {
	t.Parallel()
	b := setup(t, salesforcetest.OrgConfig{})
	b.org.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.Fault503, Count: 2})
	for i := range 3 {
		_, err := b.client.Create(t.Context(), "Task", task("c-1"))
		if i < 2 && salesforce.Classify(err) != crm.ClassRetryable {
			t.Fatalf("attempt %d: error %v, want a retryable one", i, err)
		}
		if i == 2 && err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if got := len(b.org.Records("Task")); got != 1 {
		t.Errorf("records = %d, want 1", got)
	}
}

func TestDroppedConnectionAfterCommit(t *testing.T) {
	t.Parallel()
	b := setup(t, salesforcetest.OrgConfig{})
	b.org.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.FaultDropAfterCommit})

	_, err := b.client.Create(t.Context(), "Task", task("c-1"))
	if err == nil {
		t.Fatal("Create succeeded, want a network error")
	}
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		t.Errorf("error %v is an *APIError, want a network error", err)
	}
	if c := salesforce.Classify(err); c != crm.ClassRetryable {
		t.Errorf("Classify = %v, want retryable", c)
	}
	recs := b.org.Records("Task")
	if len(recs) != 1 || recs[0]["Subject"] != "c-1" {
		t.Errorf("records = %v, want the one that was created although the answer was lost", recs)
	}
	if got := b.ops.Calls(); !slices.Contains(got, "create 0") {
		t.Errorf("OnRequest saw %q, want a create with status 0", got)
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()

	t.Run("request timeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t, salesforcetest.OrgConfig{}, func(c *salesforce.Config) { c.Timeout = 200 * time.Millisecond })
		if err := b.client.CheckCredentials(t.Context()); err != nil {
			t.Fatalf("CheckCredentials: %v", err)
		}
		b.org.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.FaultLatency, Latency: time.Minute})
		start := time.Now()
		_, err := b.client.Create(t.Context(), "Task", task("c-1"))
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("Create took %v with a 200ms timeout", elapsed)
		}
		if err == nil {
			t.Fatal("Create succeeded, want a timeout")
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("error %v, want a timeout wrapping context.DeadlineExceeded", err)
		}
		if c := salesforce.Classify(err); c != crm.ClassRetryable {
			t.Errorf("Classify = %v, want retryable", c)
		}
	})

	t.Run("token timeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t, salesforcetest.OrgConfig{}, func(c *salesforce.Config) { c.Timeout = 200 * time.Millisecond })
		b.org.InjectFault(salesforcetest.Fault{Op: "token", Kind: salesforcetest.FaultLatency, Latency: time.Minute})
		err := b.client.CheckCredentials(t.Context())
		if err == nil {
			t.Fatal("CheckCredentials succeeded, want a timeout")
		}
		if c := salesforce.Classify(err); c != crm.ClassRetryable {
			t.Errorf("Classify(%v) = %v, want retryable", err, c)
		}
	})

	orgTest(t, "caller cancels", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := b.client.Create(ctx, "Task", task("c-1"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if c := salesforce.Classify(err); c != crm.ClassRetryable {
			t.Errorf("Classify = %v, want retryable", c)
		}
	})

	orgTest(t, "caller deadline during a slow request", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		if err := b.client.CheckCredentials(t.Context()); err != nil {
			t.Fatalf("CheckCredentials: %v", err)
		}
		b.org.SetLatency(time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := b.client.Describe(ctx, "Task")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want context.DeadlineExceeded", err)
		}
		if c := salesforce.Classify(err); c != crm.ClassRetryable {
			t.Errorf("Classify = %v, want retryable", c)
		}
	})
}

// Salesforce goes on with a request whose client left; so does the test
// server. A create abandoned by its caller lands anyway, which is why a
// create in doubt must not be retried blindly.
func TestAbandonedRequestLands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		slow func(*salesforcetest.Org)
	}{
		{"fault latency", func(o *salesforcetest.Org) {
			o.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.FaultLatency, Latency: 500 * time.Millisecond})
		}},
		{"org latency", func(o *salesforcetest.Org) { o.SetLatency(500 * time.Millisecond) }},
	}
	for _, tt := range tests {
		orgTest(t, tt.name, salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
			if err := b.client.CheckCredentials(t.Context()); err != nil {
				t.Fatalf("CheckCredentials: %v", err)
			}
			tt.slow(b.org)
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			_, err := b.client.Create(ctx, "Task", task("c-1"))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Create error = %v, want context.DeadlineExceeded", err)
			}

			pgtest.WaitFor(t, 5*time.Second, "the abandoned create to land", func() bool { return len(b.org.Records("Task")) == 1 })
			pgtest.WaitFor(t, 5*time.Second, "no request in flight", func() bool { return b.org.InFlight() == 0 })
			if recs := b.org.Records("Task"); recs[0]["Subject"] != "c-1" {
				t.Errorf("record = %v, want the abandoned create's", recs[0])
			}
			wantRequests(t, b, "create", 1)
			if used, _ := b.org.APIUsage(); used != 1 {
				t.Errorf("API usage = %d, want 1", used)
			}
		})
	}
}

func TestAPIUsage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, salesforcetest.OrgConfig{DailyAPILimit: 5000})

	if _, ok := b.client.APIUsage(); ok {
		t.Error("APIUsage reported usage before any response")
	}
	before := time.Now()
	createTask(t, ctx, b, "c-1")
	u, ok := b.client.APIUsage()
	if !ok || u.Used != 1 || u.Max != 5000 || u.Remaining() != 4999 || u.At.Before(before) {
		t.Errorf("APIUsage = %+v, %t; want 1/5000 at or after %v", u, ok, before)
	}

	// Errors carry the header too.
	b.org.SetAPIUsage(4990)
	if _, err := b.client.Create(ctx, "Task", salesforce.Fields{"Subject": strings.Repeat("x", 300)}); err == nil {
		t.Fatal("Create succeeded, want STRING_TOO_LONG")
	}
	if u, _ := b.client.APIUsage(); u.Used != 4991 || u.Max != 5000 {
		t.Errorf("APIUsage after an error = %+v, want 4991/5000", u)
	}

	// Spent: the header still reports it.
	b.org.SetAPIUsage(5000)
	_, err := b.client.Describe(ctx, "Task")
	if salesforce.Classify(err) != crm.ClassRateLimited {
		t.Fatalf("error %v, want rate limited", err)
	}
	if u, _ := b.client.APIUsage(); u.Used != 5000 || u.Remaining() != 0 {
		t.Errorf("APIUsage when spent = %+v, want 5000/5000", u)
	}
}

func TestParseLimitInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   salesforce.Usage
		ok     bool
	}{
		{"api-usage=10018/100000", salesforce.Usage{Used: 10018, Max: 100000}, true},
		{"api-usage=10018/100000; api-bursts=1/750", salesforce.Usage{Used: 10018, Max: 100000}, true},
		{"api-bursts=1/750; api-usage=5/15000", salesforce.Usage{Used: 5, Max: 15000}, true},
		{"per-app-api-usage=17/250(appName=x); api-usage=18/250", salesforce.Usage{Used: 18, Max: 250}, true},
		{" API-Usage = 7/9 ", salesforce.Usage{Used: 7, Max: 9}, true},
		{"api-usage=100001/100000", salesforce.Usage{Used: 100001, Max: 100000}, true},
		{"", salesforce.Usage{}, false},
		{"api-usage=", salesforce.Usage{}, false},
		{"api-usage=10", salesforce.Usage{}, false},
		{"api-usage=x/100", salesforce.Usage{}, false},
		{"api-usage=-1/100", salesforce.Usage{}, false},
		{"api-usage=1/0", salesforce.Usage{}, false},
		{"per-app-api-usage=17/250(appName=x)", salesforce.Usage{}, false},
	}
	for _, tt := range tests {
		got, ok := salesforce.ParseLimitInfo(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseLimitInfo(%q) = %+v, %t; want %+v, %t", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewClientRefusesBadConfig(t *testing.T) {
	t.Parallel()
	good := salesforce.Config{InstanceURL: "https://acme.my.salesforce.com", ClientID: "id", ClientSecret: "secret"}
	tests := []struct {
		name string
		mod  func(*salesforce.Config)
		want string
	}{
		{"bad instance URL", func(c *salesforce.Config) { c.InstanceURL = "https://login.salesforce.com" }, "invalid instance URL"},
		{"loopback without flag", func(c *salesforce.Config) { c.InstanceURL = "http://127.0.0.1:8080" }, "invalid instance URL"},
		{"no client ID", func(c *salesforce.Config) { c.ClientID = "" }, "ClientID"},
		{"no secret", func(c *salesforce.Config) { c.ClientSecret = "" }, "ClientSecret"},
		{"negative timeout", func(c *salesforce.Config) { c.Timeout = -time.Second }, "Timeout"},
	}
	for _, tt := range tests {
		cfg := good
		tt.mod(&cfg)
		if _, err := salesforce.NewClient(&cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewClient error = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := salesforce.NewClient(nil); err == nil {
		t.Error("NewClient(nil) succeeded")
	}
	if _, err := salesforce.NewClient(&good); err != nil {
		t.Errorf("NewClient(good): %v", err)
	}
}
