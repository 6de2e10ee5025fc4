package ops_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river/rivertype"

	"github.com/koeiq/syncd/internal/browsertest"
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
	browser := browsertest.Find(t)
	b := setup(t, nil)

	// The ops handler on 127.0.0.1, noting what reaches it and its answers.
	opsSrv, rec := browsertest.Serve(t, b.srv.Config.Handler)
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

	// One deadline for the whole session; rebind.test resolves to
	// 127.0.0.1 for the DNS-rebinding check.
	bs := browsertest.Start(t, browsertest.Config{
		Browser:  browser,
		Recorder: rec,
		Options: []chromedp.ExecAllocatorOption{
			chromedp.Flag("host-resolver-rules", "MAP rebind.test 127.0.0.1"),
		},
	})
	jobIs := func(want rivertype.JobState) func() bool {
		return func() bool { return b.jobState(t) == want }
	}

	// The cross-site attack, from a real browser: sent, refused, job kept.
	bs.Step(t, "open the other site's page", chromedp.Navigate(evilURL))
	pgtest.WaitFor(t, time.Until(bs.Deadline), "the other site's delete to reach the listener", func() bool {
		_, ok := rec.Find("POST", "/riverui/api/jobs/delete")
		return ok
	})
	if r, _ := rec.Find("POST", "/riverui/api/jobs/delete"); r.Status != http.StatusForbidden {
		t.Fatalf("cross-site delete from the browser: %+v, want 403", r)
	}
	if state := b.jobState(t); state != rivertype.JobStateScheduled {
		t.Fatalf("job after the cross-site delete: %s", state)
	}

	// DNS rebinding: rebind.test resolves to 127.0.0.1 (--host-resolver-rules).
	bs.Step(t, "open the UI under a rebound name",
		chromedp.Navigate("http://rebind.test:"+opsURL.Port()+"/riverui/"))
	if rebound := bs.Page(); !strings.Contains(rebound, "misdirected request") {
		t.Fatalf("UI under a rebound name shows %q", rebound)
	}

	// The operator's own browser: job list, the job, Cancel, then Delete.
	jobLink := chromedp.CSS(fmt.Sprintf(`a[href$="/jobs/%d"]`, b.jobID))
	const (
		cancelButton  = `//button[normalize-space()="Cancel"]`
		deleteButton  = `//button[normalize-space()="Delete"]`
		confirmButton = `//button[normalize-space()="Delete job"]`
	)
	bs.Attempt(t, "open the job from the list and press Cancel", jobIs(rivertype.JobStateCancelled),
		func(int) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{
				chromedp.Navigate(opsSrv.URL + "/riverui/jobs?state=scheduled"),
				chromedp.WaitVisible(jobLink),
				chromedp.Click(jobLink),
				chromedp.WaitVisible(cancelButton),
				chromedp.Click(cancelButton),
			}
		})
	bs.Attempt(t, "press Delete and confirm", jobIs("deleted"), func(try int) []chromedp.Action[chromedp.Void] {
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
		r, _ := rec.Find("POST", path)
		if r.Status != http.StatusOK || r.Origin != opsSrv.URL {
			t.Errorf("the UI's POST %s: %+v", path, r)
		}
		t.Logf("the UI's POST %s: Origin %s, Sec-Fetch-Site %s, Content-Type %s", path, r.Origin, r.Site, r.ContentType)
	}
	t.Logf("browser session: %v", bs.Elapsed())
}
