package browsertest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/koeiq/syncd/internal/browsertest"
)

// TestSession drives a small page: a step, an attempt whose button posts to
// the server, the page's text, the recorded requests and a screenshot.
func TestSession(t *testing.T) {
	t.Parallel()
	var pressed atomic.Bool
	srv, rec := browsertest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>t</title><p>hello from the page</p>
<button onclick="fetch('/press', {method: 'POST'})">Press</button>`)
		case "/press":
			pressed.Store(true)
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))

	s := browsertest.Start(t, browsertest.Config{Recorder: rec})
	s.Step(t, "open the page", chromedp.Navigate(srv.URL+"/"))
	if page := s.Page(); !strings.HasPrefix(page, srv.URL+"/\n") || !strings.Contains(page, "hello from the page") {
		t.Errorf("page: %q", page)
	}
	const button = `//button[normalize-space()="Press"]`
	s.Attempt(t, "press the button", pressed.Load, func(try int) []chromedp.Action[chromedp.Void] {
		steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(button), chromedp.Click(button)}
		if try > 1 {
			steps = append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + "/")}, steps...)
		}
		return steps
	})
	if r, ok := rec.Find("POST", "/press"); !ok || r.Status != http.StatusNoContent || r.Origin != srv.URL {
		t.Errorf("POST /press: %+v, %v\nrequests:\n%s", r, ok, rec)
	}
	if _, ok := rec.Find("GET", "/"); !ok {
		t.Errorf("no GET /:\n%s", rec)
	}

	path := filepath.Join(t.TempDir(), "shots", "page.png")
	s.Screenshot(t, path)
	png, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot: %.8q, %v", png, err)
	}
}
