package ops_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river/rivertype"

	"github.com/koeiq/syncd/internal/pgtest"
)

// TestBrowser drives the River UI in a real headless Chromium: another
// site's page and a DNS-rebinding name cannot touch the job, while the UI's
// own Cancel and Delete buttons, same-origin, still work.
//
// It needs a chromium (Debian's package) on PATH; .ci/run installs one.
// Outside CI a missing browser skips the test; under CI=true it fails.
func TestBrowser(t *testing.T) {
	t.Parallel()
	browser := findBrowser(t)
	b := setup(t, nil)

	// The ops handler on 127.0.0.1, noting what reaches it and its answers.
	rec := &recorder{}
	opsSrv := httptest.NewServer(rec.wrap(b.srv.Config.Handler))
	t.Cleanup(opsSrv.Close)
	opsURL, _ := url.Parse(opsSrv.URL)

	// Another site: a page on localhost (another origin and site than
	// 127.0.0.1) that posts the attack of issue 11 as soon as it loads.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>evil</title><script>
fetch(%q, {method: "POST", mode: "no-cors", body: JSON.stringify({ids: ["%d"]})});
</script>`, opsSrv.URL+"/riverui/api/jobs/delete", b.jobID)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	// One deadline for the whole session: it takes seconds on an idle
	// machine, but starting Chromium and rendering the River UI take far
	// longer when other work keeps every core busy.
	start := time.Now()
	deadline := start.Add(3 * time.Minute)
	if d, ok := t.Deadline(); ok && d.Add(-10*time.Second).Before(deadline) {
		deadline = d.Add(-10 * time.Second)
	}
	ctx := startBrowser(t, browser, deadline)
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s after %v: %v", what, time.Since(start).Round(time.Millisecond), err)
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		pgtest.WaitFor(t, time.Until(deadline), what, cond)
	}

	// The cross-site attack, from a real browser: sent, refused, job kept.
	step("open the other site's page", chromedp.Navigate(evilURL))
	waitFor("the other site's delete to reach the listener", func() bool {
		_, ok := rec.find("POST", "/riverui/api/jobs/delete")
		return ok
	})
	if r, _ := rec.find("POST", "/riverui/api/jobs/delete"); r.status != http.StatusForbidden {
		t.Fatalf("cross-site delete from the browser: %+v, want 403", r)
	}
	if state := b.jobState(t); state != rivertype.JobStateScheduled {
		t.Fatalf("job after the cross-site delete: %s", state)
	}

	// DNS rebinding: rebind.test resolves to 127.0.0.1 (--host-resolver-rules).
	step("open the UI under a rebound name",
		chromedp.Navigate("http://rebind.test:"+opsURL.Port()+"/riverui/"))
	rebound, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || !strings.Contains(rebound, "misdirected request") {
		t.Fatalf("UI under a rebound name shows %q (%v)", rebound, err)
	}

	// The operator's own browser: job list, the job, Cancel, then Delete.
	jobLink := chromedp.CSS(fmt.Sprintf(`a[href$="/jobs/%d"]`, b.jobID))
	step("open the list of scheduled jobs",
		chromedp.Navigate(opsSrv.URL+"/riverui/jobs?state=scheduled"),
		chromedp.WaitVisible(jobLink))
	step("open the job and press Cancel",
		chromedp.Click(jobLink),
		chromedp.WaitVisible(`//button[normalize-space()="Cancel"]`),
		chromedp.Click(`//button[normalize-space()="Cancel"]`))
	waitFor("the job to be cancelled", func() bool {
		return b.jobState(t) == rivertype.JobStateCancelled
	})
	step("press Delete and confirm",
		chromedp.WaitVisible(`//button[normalize-space()="Delete"]`),
		chromedp.Click(`//button[normalize-space()="Delete"]`),
		chromedp.WaitVisible(`//button[normalize-space()="Delete job"]`),
		chromedp.Click(`//button[normalize-space()="Delete job"]`))
	waitFor("the job to be deleted", func() bool {
		return b.jobState(t) == "deleted"
	})

	for _, path := range []string{"/riverui/api/jobs/cancel", "/riverui/api/jobs/delete"} {
		r, _ := rec.find("POST", path)
		if r.status != http.StatusOK || r.origin != opsSrv.URL {
			t.Errorf("the UI's POST %s: %+v", path, r)
		}
		t.Logf("the UI's POST %s: Origin %s, Sec-Fetch-Site %s, Content-Type %s", path, r.origin, r.site, r.contentType)
	}
	t.Logf("browser session: %v", time.Since(start).Round(time.Millisecond))
}

// findBrowser returns the path of Chromium or Chrome, skipping the test when
// there is none, unless under CI.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: the browser test must run under CI (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: skipping the browser test (apt-get install chromium runs it)")
	return ""
}

// startBrowser starts a headless browser that lives until the test ends, and
// returns its context. A browser that does not start by deadline fails the
// test.
func startBrowser(t *testing.T, path string, deadline time.Time) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		chromedp.Flag("host-resolver-rules", "MAP rebind.test 127.0.0.1"),
		chromedp.WSURLReadTimeout(time.Until(deadline)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, which lives as long as its
	// context, so that gets no deadline: a watchdog ends a start that hangs.
	started := time.Now()
	watchdog := time.AfterFunc(time.Until(deadline), cancel)
	err := chromedp.Do(ctx)
	if !watchdog.Stop() || err != nil {
		t.Fatalf("cannot start %s (%v): %v", path, time.Since(started).Round(time.Millisecond), err)
	}
	t.Logf("%s started in %v", path, time.Since(started).Round(time.Millisecond))
	return ctx
}

// seen is a request the ops listener received, and its answer.
type seen struct {
	method, path, origin, site, contentType string
	status                                  int
}

// recorder notes the requests a handler receives.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.Path, r.Header.Get("Origin"),
			r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Content-Type"), sw.status})
	})
}

// find returns the last request with method and path.
func (rec *recorder) find(method, path string) (seen, bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := len(rec.reqs) - 1; i >= 0; i-- {
		if r := rec.reqs[i]; r.method == method && r.path == path {
			return r, true
		}
	}
	return seen{}, false
}

// statusWriter notes the status a handler answers with.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
