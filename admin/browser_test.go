package admin_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/internal/browsertest"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// TestPageInBrowser drives the Salesforce Integration page in a real
// headless Chromium, against the admin API, a running jobs client and the
// Salesforce test server: signing in, saving settings (a wrong secret shows
// its reason and stores nothing), a test call that ends with a link to its
// record, and a failed call that Resync turns synced. It keeps screenshots
// at 1280 and 375 pixels wide under $TMPDIR.
//
// It needs a chromium (Debian's package) on PATH; .ci/run installs one.
// Outside CI a missing browser skips the test; under CI=true it fails.
func TestPageInBrowser(t *testing.T) {
	t.Parallel()
	browser := browsertest.Find(t)
	ctx := context.Background()
	b := setup(t)
	org := b.tenant(t, "acme", true)
	org.AddValidationRule(salesforcetest.ValidationRule{Object: "Task", Field: "Description", Contains: "card number",
		Message: "Comments must not contain card numbers.", ErrorField: "Description"})
	client, err := jobs.NewClient(b.pool, &jobs.Config{Settings: b.store, DispatchInterval: time.Second, RetryBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	testsupport.StopAtCleanup(t, client.Stop)

	srv, rec := browsertest.Serve(t, b.api.Config.Handler)
	s := browsertest.Start(t, browsertest.Config{Browser: browser, Recorder: rec})

	// eval evaluates a JavaScript expression in the page.
	eval := func(expr string) (string, error) {
		ctx, cancel := context.WithTimeout(s.Ctx, 10*time.Second)
		defer cancel()
		return chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	}
	// shows is a condition: the element's text contains want.
	shows := func(sel, want string) func() bool {
		return func() bool {
			text, err := eval(`(document.querySelector(` + jsString(sel) + `) || {}).innerText || ""`)
			return err == nil && strings.Contains(text, want)
		}
	}
	visible := func(sel string) bool {
		v, err := eval(`(() => { const e = document.querySelector(` + jsString(sel) + `);
			return String(!!e && !e.closest("[hidden]") && e.getClientRects().length > 0); })()`)
		return err == nil && v == "true"
	}
	open := func(what, url string) {
		t.Helper()
		s.Step(t, what, chromedp.Navigate("about:blank"), chromedp.Navigate(url),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	}
	pageURL := srv.URL + "/admin/"

	// Signing in: no token, an agent's token, then the Admin's.
	open("open the page without a token", pageURL)
	if !visible("#message") || visible("#app") || !shows("#message", "sign-in link")() {
		t.Fatalf("without a token: %s", s.Page())
	}
	open("open the page with an agent's token", pageURL+"#token="+token(t, "acme", "agent"))
	if !visible("#message") || visible("#app") || !shows("#message", "Admin")() {
		t.Fatalf("with an agent's token: %s", s.Page())
	}
	expired, err := (&admin.Token{TenantID: "acme", Role: admin.RoleAdmin, Subject: "admin@acme", TTL: -time.Hour}).Sign(jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	open("open the page with an expired token", pageURL+"#token="+expired)
	if !visible("#message") || visible("#app") || !shows("#message", "expired")() {
		t.Fatalf("with an expired token: %s", s.Page())
	}
	open("open the page with the Admin's token", pageURL+"#token="+token(t, "acme", "admin"))
	if !visible("#app") || visible("#message") || !shows("#tenant-name", "acme")() {
		t.Fatalf("with the Admin's token: %s", s.Page())
	}
	if loc, _ := eval(`location.href`); loc != pageURL {
		t.Errorf("the token stays in the address bar: %s", loc)
	}
	if stored, _ := eval(`sessionStorage.length > 0 ? "yes" : "no"`); stored != "yes" {
		t.Error("the token is not kept in sessionStorage")
	}

	// Save Salesforce Settings: a wrong secret is refused in words and
	// stores nothing; the right one is saved.
	fill := func(secret string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.ID("sf-instance-url"), org.URL()),
			chromedp.SetValue(chromedp.ID("sf-client-id"), "acme-key"),
			chromedp.SetValue(chromedp.ID("sf-client-secret"), secret),
			chromedp.SetValue(chromedp.ID("sf-object-type"), "Task"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("sf-enabled").checked = true`),
			chromedp.Click(chromedp.ID("sf-save")),
		}
	}
	s.Attempt(t, "save a wrong secret", shows("#sf-status", "Salesforce refused the Client Secret"),
		func(int) []chromedp.Action[chromedp.Void] { return fill("not-the-secret") })
	if n := pgtest.Count(t, b.pool, "SELECT count(*) FROM salesforce_settings"); n != 0 {
		t.Fatalf("a refused secret stored %d settings", n)
	}
	s.Attempt(t, "save the right secret", func() bool {
		return pgtest.Count(t, b.pool, "SELECT count(*) FROM salesforce_settings WHERE enabled") == 1
	},
		func(int) []chromedp.Action[chromedp.Void] { return fill("acme-secret") })
	s.Attempt(t, "see it saved", shows("#sf-status", "Saved"), func(int) []chromedp.Action[chromedp.Void] { return nil })
	if v, _ := eval(`document.getElementById("sf-client-secret").value + document.body.innerText`); strings.Contains(v, "acme-secret") {
		t.Error("the page shows the client secret")
	}

	// Send a test call: it ends with a link to its record.
	s.Attempt(t, "send a test call", func() bool { return visible("a#test-call-link") },
		func(int) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.WaitEnabled(chromedp.ID("test-call")), chromedp.Click(chromedp.ID("test-call"))}
		})
	href, _ := eval(`document.querySelector("a#test-call-link").href`)
	recordID := strings.TrimPrefix(href, org.URL()+"/")
	task, ok := org.Record("Task", recordID)
	if !ok || !strings.HasPrefix(task["Subject"].(string), mapping.Subject("test-")) || !strings.Contains(task["Description"].(string), "TEST CALL") {
		t.Fatalf("the test call's link %s: record %v", href, task)
	}

	// The sync log lists a call Salesforce refused, with its message;
	// Resync, once the org accepts it, turns it synced.
	if _, err := b.pool.Exec(ctx, `SELECT enqueue('acme', 'c-card', 'call.analysed', jsonb_build_object('call_id', 'c-card',
		'started_at', '2026-11-30T09:00:00Z', 'duration_seconds', 61, 'summary', 'The customer read out a card number.'))`); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFor(t, time.Until(s.Deadline), "c-card to fail", func() bool { return b.callState(t, "c-card") == "failed" })
	row := `tr[data-call-id="c-card"]`
	s.Attempt(t, "see the failed call in the log", shows(row+`[data-state="failed"] .last-error`, "Comments must not contain card numbers"),
		func(int) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.ID("log-refresh"))}
		})
	org.ClearValidationRules()
	s.Attempt(t, "resync the failed call", func() bool { return b.callState(t, "c-card") == "synced" },
		func(int) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(row + ` .resync`))}
		})
	s.Attempt(t, "see it synced", func() bool { return visible(row + `[data-state="synced"] a.record-link`) },
		func(int) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.ID("log-refresh"))}
		})

	// Without the Audit & Export Pack the settings are read-only, and say so.
	if _, err := b.store.SetTenant(ctx, "acme", withPack(false)); err != nil {
		t.Fatal(err)
	}
	s.Attempt(t, "see the page read-only without the pack", func() bool {
		disabled, _ := eval(`["sf-fieldset", "sf-save", "kt-save", "test-call", "retry-failed"]
			.every(id => document.getElementById(id).disabled) ? "yes" : "no"`)
		return visible("#pack-notice") && disabled == "yes"
	}, func(int) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))}
	})
	if _, err := b.store.SetTenant(ctx, "acme", withPack(true)); err != nil {
		t.Fatal(err)
	}
	s.Step(t, "reload with the pack", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))

	dir := filepath.Join(os.TempDir(), "syncd-admin-page")
	s.Screenshot(t, filepath.Join(dir, "admin-page-1280.png"))
	s.Step(t, "narrow the window to 375 px", chromedp.EmulateViewport(375, 812))
	// At 375 px nothing is wider than the window: the log's table scrolls
	// inside its own box. (documentElement.scrollWidth is no measure here:
	// after a full-page screenshot, headless Chromium still counts the
	// table's scrolled-away width in it.)
	overflow := `(() => {
		const width = document.documentElement.clientWidth;
		const wide = [...document.querySelectorAll("body *")]
			.filter(e => !(e.parentElement && e.parentElement.closest(".table-wrap")))
			.filter(e => e.getBoundingClientRect().right > width + 1)
			.map(e => e.tagName + (e.id ? "#" + e.id : "") + " " + Math.round(e.getBoundingClientRect().right));
		if (innerWidth !== 375) return "window " + innerWidth + " px wide";
		if (document.body.scrollWidth > width) return "body " + document.body.scrollWidth + " px wide";
		return wide.length ? "wider than the window: " + wide.slice(0, 5).join(", ") : "fits";
	})()`
	s.Attempt(t, "fit 375 px", func() bool {
		got, err := eval(overflow)
		if err != nil || got != "fits" {
			t.Logf("at 375 px: %s %v", got, err)
			return false
		}
		return true
	}, func(int) []chromedp.Action[chromedp.Void] { return nil })
	s.Screenshot(t, filepath.Join(dir, "admin-page-375.png"))
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// callState is the state of the call's Salesforce record, or "".
func (b *testBundle) callState(t *testing.T, callID string) string {
	t.Helper()
	var state string
	_ = b.pool.QueryRow(context.Background(), "SELECT state FROM sync_records WHERE call_id = $1", callID).Scan(&state)
	return state
}
