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

	// page says where the browser is and what it shows, for failures.
	page := func() string {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		if err != nil {
			return err.Error()
		}
		return text
	}
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s after %v: %v\npage: %.2000s\nrequests:\n%s", what, time.Since(start).Round(time.Millisecond), err, page(), rec)
		}
	}
	// attempt runs the steps of each try until done holds, each try for at
	// most 45 s, all of them until the deadline: on a loaded machine a click
	// can miss a page that is still moving, and a page whose API call failed
	// shows no buttons. Another try starts over, and says so in the log.
	attempt := func(what string, done func() bool, steps func(try int) []chromedp.Action[chromedp.Void]) {
		t.Helper()
		for try := 1; try == 1 || !done(); try++ {
			tryDeadline := time.Now().Add(45 * time.Second)
			if tryDeadline.After(deadline) {
				tryDeadline = deadline
			}
			ctx, cancel := context.WithDeadline(ctx, tryDeadline)
			err := chromedp.Do(ctx, steps(try)...)
			if err == nil {
				err = poll(ctx, done)
			}
			cancel()
			if err == nil {
				return
			}
			msg := fmt.Sprintf("%s, try %d, after %v: %v\npage: %.2000s\nrequests:\n%s",
				what, try, time.Since(start).Round(time.Millisecond), err, page(), rec)
			if time.Now().After(deadline) {
				t.Fatal(msg)
			}
			t.Log(msg)
		}
	}
	jobIs := func(want rivertype.JobState) func() bool {
		return func() bool { return b.jobState(t) == want }
	}

	// The cross-site attack, from a real browser: sent, refused, job kept.
	step("open the other site's page", chromedp.Navigate(evilURL))
	pgtest.WaitFor(t, time.Until(deadline), "the other site's delete to reach the listener", func() bool {
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
	if rebound := page(); !strings.Contains(rebound, "misdirected request") {
		t.Fatalf("UI under a rebound name shows %q", rebound)
	}

	// The operator's own browser: job list, the job, Cancel, then Delete.
	jobLink := chromedp.CSS(fmt.Sprintf(`a[href$="/jobs/%d"]`, b.jobID))
	const (
		cancelButton  = `//button[normalize-space()="Cancel"]`
		deleteButton  = `//button[normalize-space()="Delete"]`
		confirmButton = `//button[normalize-space()="Delete job"]`
	)
	attempt("open the job from the list and press Cancel", jobIs(rivertype.JobStateCancelled),
		func(int) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{
				chromedp.Navigate(opsSrv.URL + "/riverui/jobs?state=scheduled"),
				chromedp.WaitVisible(jobLink),
				chromedp.Click(jobLink),
				chromedp.WaitVisible(cancelButton),
				chromedp.Click(cancelButton),
			}
		})
	attempt("press Delete and confirm", jobIs("deleted"), func(try int) []chromedp.Action[chromedp.Void] {
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(deleteButton),
			chromedp.Click(deleteButton),
			chromedp.WaitVisible(confirmButton),
			chromedp.Click(confirmButton),
		}
		if try > 1 { // start over on the job's page
			steps = append([]chromedp.Action[chromedp.Void]{
				chromedp.Navigate(fmt.Sprintf("%s/riverui/jobs/%d", opsSrv.URL, b.jobID))}, steps...)
		}
		return steps
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

// poll waits until cond holds, checking every 10 ms, or until ctx ends.
func poll(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("not done: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
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
	took                                    time.Duration
}

// recorder notes the requests a handler receives.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		began := time.Now()
		h.ServeHTTP(sw, r)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.Path, r.Header.Get("Origin"),
			r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Content-Type"), sw.status, time.Since(began)})
	})
}

// String lists the last 60 requests, one a line.
func (rec *recorder) String() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var b strings.Builder
	reqs := rec.reqs
	if len(reqs) > 60 {
		fmt.Fprintf(&b, "(%d earlier requests)\n", len(reqs)-60)
		reqs = reqs[len(reqs)-60:]
	}
	for _, r := range reqs {
		fmt.Fprintf(&b, "%s %s %d in %v (Origin %q, Sec-Fetch-Site %q, Content-Type %q)\n",
			r.method, r.path, r.status, r.took.Round(time.Millisecond), r.origin, r.site, r.contentType)
	}
	return b.String()
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
