package settings_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

const secret = "sf-consumer-secret-1234"

type testBundle struct {
	pool  *pgxpool.Pool
	store *settings.Store
	sf    *salesforcetest.Server
	org   *salesforcetest.Org
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := pgtest.Pool(t)
	store := testsupport.NewResumingStore(t, pool, settings.Config{AllowInsecureURLs: true})
	sf := salesforcetest.NewServer()
	t.Cleanup(sf.Close)
	org := sf.AddOrg("acme", salesforcetest.OrgConfig{ClientID: "acme-id", ClientSecret: secret,
		Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
	return &testBundle{pool: pool, store: store, sf: sf, org: org}
}

func (b *testBundle) tenant(t *testing.T, id string, pack bool) {
	t.Helper()
	if _, err := b.store.SetTenant(context.Background(), id, settings.TenantChange{AuditExportPack: &pack}); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// setupTenant is setup with tenant t1, which has the Audit & Export Pack.
func setupTenant(t *testing.T) *testBundle {
	t.Helper()
	b := setup(t)
	b.tenant(t, "t1", true)
	return b
}

func (b *testBundle) input() settings.SalesforceInput {
	return settings.SalesforceInput{Enabled: true, InstanceURL: b.org.URL(), ClientID: "acme-id", ClientSecret: ptr(secret), ObjectType: "Task"}
}

func TestSetTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	tn, err := b.store.SetTenant(ctx, "t1", settings.TenantChange{Name: ptr("Acme"), Timezone: ptr("Asia/Tokyo")})
	if err != nil {
		t.Fatal(err)
	}
	if tn.Name != "Acme" || tn.Timezone != "Asia/Tokyo" || tn.AuditExportPack || !tn.AnalyticsEnabled {
		t.Errorf("new tenant = %+v", tn)
	}
	tn, err = b.store.SetTenant(ctx, "t1", settings.TenantChange{AuditExportPack: ptr(true), AnalyticsEnabled: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if tn.Name != "Acme" || tn.Timezone != "Asia/Tokyo" || !tn.AuditExportPack || tn.AnalyticsEnabled {
		t.Errorf("changed tenant = %+v; unchanged fields must stay", tn)
	}
	if loc := tn.Location(); loc.String() != "Asia/Tokyo" {
		t.Errorf("Location = %v", loc)
	}

	for _, tz := range []string{"Mars/Olympus", "", "Local"} {
		var ve *settings.ValidationError
		if _, err := b.store.SetTenant(ctx, "t1", settings.TenantChange{Timezone: ptr(tz)}); !errors.As(err, &ve) || ve.Field != "timezone" {
			t.Errorf("timezone %q: err = %v, want a ValidationError for timezone", tz, err)
		}
	}
	if _, err := b.store.Tenant(ctx, "nobody"); !errors.Is(err, settings.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}

	// The phone region: a region code, upper-cased; "" unsets it.
	if tn, err := b.store.SetTenant(ctx, "t1", settings.TenantChange{DefaultRegion: ptr(" jp ")}); err != nil || tn.DefaultRegion != "JP" {
		t.Errorf("region jp: %+v, %v", tn, err)
	}
	if tn, err := b.store.SetTenant(ctx, "t1", settings.TenantChange{Name: ptr("Acme")}); err != nil || tn.DefaultRegion != "JP" {
		t.Errorf("region kept: %+v, %v", tn, err)
	}
	for _, region := range []string{"XX", "JPN", "Japan"} {
		var ve *settings.ValidationError
		if _, err := b.store.SetTenant(ctx, "t1", settings.TenantChange{DefaultRegion: ptr(region)}); !errors.As(err, &ve) || ve.Field != "default_region" {
			t.Errorf("region %q: err = %v, want a ValidationError for default_region", region, err)
		}
	}
	if tn, err := b.store.SetTenant(ctx, "t1", settings.TenantChange{DefaultRegion: ptr("")}); err != nil || tn.DefaultRegion != "" {
		t.Errorf("region unset: %+v, %v", tn, err)
	}
}

func TestSaveSalesforce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTenant(t)

	got, err := b.store.SaveSalesforce(ctx, "t1", b.input(), "admin@acme")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Enabled || !got.ClientSecretSet || got.UpdatedBy != "admin@acme" || got.ObjectType != "Task" || got.InstanceURL != b.org.URL() {
		t.Errorf("saved = %+v", got)
	}
	if n := b.org.Requests("token"); n != 1 {
		t.Errorf("%d token requests, want the one live check", n)
	}

	// Stored sealed, never in clear.
	var sealed []byte
	if err := b.pool.QueryRow(ctx, "SELECT client_secret_encrypted FROM salesforce_settings WHERE tenant_id = 't1'").Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(sealed, []byte(secret)) {
		t.Fatalf("stored secret %q is not sealed", sealed)
	}
	_, cfg, err := b.store.SalesforceConfig(ctx, "t1")
	if err != nil || cfg.ClientSecret != secret {
		t.Fatalf("SalesforceConfig secret = %q, %v", cfg.ClientSecret, err)
	}

	// A save without a secret keeps the stored one (and checks with it).
	in := b.input()
	in.ClientSecret = nil
	in.ObjectType = "Call_Recording__c"
	got, err = b.store.SaveSalesforce(ctx, "t1", in, "other@acme")
	if err != nil {
		t.Fatal(err)
	}
	if !got.ClientSecretSet || got.ObjectType != "Call_Recording__c" || got.UpdatedBy != "other@acme" {
		t.Errorf("saved = %+v", got)
	}
	if _, cfg, _ := b.store.SalesforceConfig(ctx, "t1"); cfg.ClientSecret != secret {
		t.Error("the stored secret was lost")
	}
}

func TestSaveSalesforceRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTenant(t)
	b.tenant(t, "nopack", false)
	noRunAs := b.sf.AddOrg("norunas", salesforcetest.OrgConfig{ClientID: "n-id", ClientSecret: secret,
		TokenError: "invalid_grant", TokenErrorDescription: "no client credentials user enabled"})

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + closed.Addr().String()
	closed.Close()

	tests := []struct {
		name   string
		tenant string
		change func(*settings.SalesforceInput)
		field  string // ValidationError field
		reason string // CheckError reason
		err    error
	}{
		{"login.salesforce.com", "t1", func(in *settings.SalesforceInput) { in.InstanceURL = "https://login.salesforce.com" }, "instance_url", "", nil},
		{"other host", "t1", func(in *settings.SalesforceInput) { in.InstanceURL = "https://acme.my.salesforce.com.evil.example" }, "instance_url", "", nil},
		{"no client id", "t1", func(in *settings.SalesforceInput) { in.ClientID = "" }, "client_id", "", nil},
		{"bad object type", "t1", func(in *settings.SalesforceInput) { in.ObjectType = "Call Recording" }, "object_type", "", nil},
		{"standard object", "t1", func(in *settings.SalesforceInput) { in.ObjectType = "Account" }, "object_type", "", nil},
		{"bad external id field", "t1", func(in *settings.SalesforceInput) { in.ExternalIDField = "Subject" }, "external_id_field", "", nil},
		{"empty secret", "t1", func(in *settings.SalesforceInput) { in.ClientSecret = ptr(" ") }, "client_secret", "", nil},
		{"no secret stored", "t1", func(in *settings.SalesforceInput) { in.ClientSecret = nil }, "client_secret", "", nil},
		{"wrong secret", "t1", func(in *settings.SalesforceInput) { in.ClientSecret = ptr("wrong") }, "", "wrong_secret", nil},
		{"unknown client id", "t1", func(in *settings.SalesforceInput) { in.ClientID = "nobody" }, "", "unknown_client_id", nil},
		{"flow not enabled", "t1", func(in *settings.SalesforceInput) { in.InstanceURL = noRunAs.URL(); in.ClientID = "n-id" }, "", "flow_not_enabled", nil},
		{"unreachable", "t1", func(in *settings.SalesforceInput) { in.InstanceURL = deadURL }, "", "unreachable", nil},
		{"no pack", "nopack", func(*settings.SalesforceInput) {}, "", "", settings.ErrPackRequired},
		{"unknown tenant", "nobody", func(*settings.SalesforceInput) {}, "", "", settings.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := b.input()
			tt.change(&in)
			_, err := b.store.SaveSalesforce(ctx, tt.tenant, in, "admin")
			var ve *settings.ValidationError
			var ce *settings.CheckError
			switch {
			case tt.field != "":
				if !errors.As(err, &ve) || ve.Field != tt.field {
					t.Errorf("err = %v, want a ValidationError for %s", err, tt.field)
				}
			case tt.reason != "":
				if !errors.As(err, &ce) || ce.Reason != tt.reason || ce.Message == "" {
					t.Errorf("err = %v, want a CheckError %s", err, tt.reason)
				}
			default:
				if !errors.Is(err, tt.err) {
					t.Errorf("err = %v, want %v", err, tt.err)
				}
			}
			if err != nil && bytes.Contains([]byte(err.Error()), []byte(secret)) {
				t.Errorf("error %q holds the secret", err)
			}
		})
	}
	if _, err := b.store.Salesforce(ctx, "t1"); !errors.Is(err, settings.ErrNotFound) {
		t.Errorf("a refused save stored settings: %v", err)
	}

	// Disabled settings are stored without a live check, secret or pack.
	in := b.input()
	in.Enabled = false
	in.ClientSecret = nil
	if _, err := b.store.SaveSalesforce(ctx, "nopack", in, "admin"); err != nil {
		t.Errorf("disabled save: %v", err)
	}
}

func TestSaveResumesParkedPushes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTenant(t)
	if _, err := b.store.SaveSalesforce(ctx, "t1", b.input(), "admin"); err != nil {
		t.Fatal(err)
	}
	if err := b.store.MarkSalesforceAttention(ctx, "t1", time.Time{}, "stale version"); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.store.Salesforce(ctx, "t1"); s.Attention != "" {
		t.Fatal("a mark for an older version of the settings parked the current one")
	}
	s, _ := b.store.Salesforce(ctx, "t1")
	if err := b.store.MarkSalesforceAttention(ctx, "t1", s.UpdatedAt, "invalid_client"); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.store.Salesforce(ctx, "t1"); s.Attention != "invalid_client" || s.AttentionAt == nil {
		t.Fatalf("attention = %+v", s)
	}

	// A push parked for an hour, one of another tenant, and one to the
	// tenant's other CRM.
	client, err := river.NewClient(riverpgxv5.New(b.pool), &river.Config{Schema: "syncd"})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	for _, args := range []river.JobArgs{jobs.SalesforcePushArgs{TenantID: "t1"}, jobs.SalesforcePushArgs{TenantID: "t2"},
		jobs.KintonePushArgs{TenantID: "t1"}} {
		if _, err := client.Insert(ctx, args, &river.InsertOpts{ScheduledAt: later}); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := b.store.SaveSalesforce(ctx, "t1", b.input(), "admin"); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.store.Salesforce(ctx, "t1"); s.Attention != "" {
		t.Errorf("saving did not clear attention: %+v", s)
	}
	var due map[string]bool = map[string]bool{}
	rows, _ := b.pool.Query(ctx, "SELECT kind || ' ' || (args->>'tenant_id'), scheduled_at <= now() FROM river_job")
	for rows.Next() {
		var job string
		var isDue bool
		if err := rows.Scan(&job, &isDue); err != nil {
			t.Fatal(err)
		}
		due[job] = isDue
	}
	if !due["salesforce_push t1"] || due["salesforce_push t2"] || due["kintone_push t1"] {
		t.Errorf("due after save = %v, want only t1's Salesforce push", due)
	}
}

func TestTestSalesforce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTenant(t)

	for _, tt := range []struct {
		object, ext string
		ok          bool
		missing     int
	}{
		{"Task", "", true, 0},
		{"Call_Recording__c", "", true, 0},
		{"Task", "KoeIQ_Call_Id__c", false, 1}, // the org's Task has no such field
		{"Nothing__c", "", false, 0},
	} {
		in := b.input()
		in.ObjectType, in.ExternalIDField = tt.object, tt.ext
		if _, err := b.store.SaveSalesforce(ctx, "t1", in, "admin"); err != nil {
			t.Fatal(err)
		}
		r, err := b.store.TestSalesforce(ctx, "t1")
		if err != nil {
			t.Fatalf("%s: %v", tt.object, err)
		}
		if r.OK != tt.ok || len(r.MissingFields) != tt.missing || (!r.OK && len(r.Problems) == 0) {
			t.Errorf("%s/%s: report %+v", tt.object, tt.ext, r)
		}
	}

	b.org.SetClientSecret("rotated")
	var ce *settings.CheckError
	if _, err := b.store.TestSalesforce(ctx, "t1"); !errors.As(err, &ce) || ce.Reason != "wrong_secret" {
		t.Errorf("after rotation: %v", err)
	}
}

func TestKintoneSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTenant(t)
	kt := kintonetest.NewServer()
	t.Cleanup(kt.Close)
	app := kt.AddApp("acme", kintonetest.AppConfig{APIToken: "kintone-token-abc"})

	in := settings.KintoneInput{Enabled: true, BaseURL: app.URL(), AppID: app.ID(), APIToken: ptr("wrong-token")}
	var ce *settings.CheckError
	if _, err := b.store.SaveKintone(ctx, "t1", in, "admin"); !errors.As(err, &ce) || ce.Reason != "wrong_token" {
		t.Fatalf("wrong token: %v", err)
	}
	in.APIToken = ptr("kintone-token-abc")
	got, err := b.store.SaveKintone(ctx, "t1", in, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if !got.APITokenSet || got.AppID != app.ID() {
		t.Errorf("saved = %+v", got)
	}
	r, err := b.store.TestKintone(ctx, "t1")
	if err != nil || !r.OK {
		t.Fatalf("TestKintone = %+v, %v", r, err)
	}

	var ve *settings.ValidationError
	bad := in
	bad.BaseURL = "https://example.cybozu.com.evil.example"
	if _, err := b.store.SaveKintone(ctx, "t1", bad, "admin"); !errors.As(err, &ve) || ve.Field != "base_url" {
		t.Errorf("bad base URL: %v", err)
	}
	bad = in
	bad.AppID = 0
	if _, err := b.store.SaveKintone(ctx, "t1", bad, "admin"); !errors.As(err, &ve) || ve.Field != "app_id" {
		t.Errorf("bad app ID: %v", err)
	}
}
