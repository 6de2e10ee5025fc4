// Package browsertest drives a real headless Chromium from tests, with
// chromedp: it finds the browser (skipping the test when there is none,
// failing it under CI=true), starts it for the length of the test under one
// overall deadline, runs steps that fail the test with what the page shows
// and which requests the server received, and retries steps that a loaded
// machine can make miss.
//
// It is for tests only; it imports "testing".
package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Defaults of a Config.
const (
	DefaultDeadline   = 3 * time.Minute
	DefaultTryTimeout = 45 * time.Second
	DefaultWidth      = 1280
	DefaultHeight     = 900
)

// Find returns the path of Chromium or Chrome on PATH. When there is none it
// skips the test, or fails it under CI=true.
func Find(t testing.TB) string {
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

// Config says how to start a browser Session. The zero Config is usable.
type Config struct {
	// Browser is the path of the browser; "" calls Find.
	Browser string
	// Deadline bounds the whole session, starting the browser included:
	// DefaultDeadline when 0, and never later than 10 s before the test's
	// own deadline (go test -timeout).
	Deadline time.Duration
	// TryTimeout bounds one try of Attempt: DefaultTryTimeout when 0.
	TryTimeout time.Duration
	// Width and Height are the window size: DefaultWidth and
	// DefaultHeight when 0.
	Width, Height int
	// Options are added to chromedp's default allocator options, after the
	// package's own (headless, no sandbox, no GPU, window size), for
	// example chromedp.Flag("host-resolver-rules", "MAP rebind.test 127.0.0.1").
	Options []chromedp.ExecAllocatorOption
	// Recorder, when set, is printed with every failure: wrap the server
	// under test with Recorder.Wrap.
	Recorder *Recorder
}

// Session is a headless browser that lives until the test ends.
type Session struct {
	// Ctx is the browser's chromedp context. It has no deadline of its
	// own: derive one from Deadline for actions run on it directly.
	Ctx context.Context
	// Deadline is when the whole session must be done.
	Deadline time.Time
	// Started is when Start was called.
	Started time.Time
	// Recorder is Config.Recorder, possibly nil.
	Recorder *Recorder

	tryTimeout time.Duration
}

// Start finds and starts a headless browser that lives until the test ends.
// A browser that does not start by the session's deadline fails the test.
func Start(t testing.TB, cfg Config) *Session {
	t.Helper()
	s := &Session{Started: time.Now(), Recorder: cfg.Recorder, tryTimeout: cfg.TryTimeout}
	if s.tryTimeout <= 0 {
		s.tryTimeout = DefaultTryTimeout
	}
	// One deadline for the whole session: it takes seconds on an idle
	// machine, but starting Chromium and rendering a page take far longer
	// when other work keeps every core busy.
	if cfg.Deadline <= 0 {
		cfg.Deadline = DefaultDeadline
	}
	s.Deadline = s.Started.Add(cfg.Deadline)
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok { // *testing.T
		if d, ok := dt.Deadline(); ok && d.Add(-10*time.Second).Before(s.Deadline) {
			s.Deadline = d.Add(-10 * time.Second)
		}
	}
	path := cfg.Browser
	if path == "" {
		path = Find(t)
	}
	if cfg.Width <= 0 {
		cfg.Width = DefaultWidth
	}
	if cfg.Height <= 0 {
		cfg.Height = DefaultHeight
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		chromedp.WindowSize(cfg.Width, cfg.Height),
		chromedp.WSURLReadTimeout(time.Until(s.Deadline)),
	)
	opts = append(opts, cfg.Options...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, which lives as long as its
	// context, so that gets no deadline: a watchdog ends a start that hangs.
	started := time.Now()
	watchdog := time.AfterFunc(time.Until(s.Deadline), cancel)
	err := chromedp.Do(ctx)
	if !watchdog.Stop() || err != nil {
		t.Fatalf("cannot start %s (%v): %v", path, time.Since(started).Round(time.Millisecond), err)
	}
	t.Logf("%s started in %v", path, time.Since(started).Round(time.Millisecond))
	s.Ctx = ctx
	return s
}

// Elapsed is the time since the session started.
func (s *Session) Elapsed() time.Duration {
	return time.Since(s.Started).Round(time.Millisecond)
}

// Page says where the browser is and what it shows: its location, a
// newline, and the body's text. It is for failure messages, and gives the
// error instead when it cannot tell within 10 s.
func (s *Session) Page() string {
	ctx, cancel := context.WithTimeout(s.Ctx, 10*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
	if err != nil {
		return err.Error()
	}
	return text
}

// failure describes a failed step: the error, the page and the requests.
func (s *Session) failure(what string, err error) string {
	msg := fmt.Sprintf("%s after %v: %v\npage: %.2000s", what, s.Elapsed(), err, s.Page())
	if s.Recorder != nil {
		msg += "\nrequests:\n" + s.Recorder.String()
	}
	return msg
}

// Step runs the actions by the session's deadline, and fails the test with
// the page and the recent requests when one fails.
func (s *Session) Step(t testing.TB, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithDeadline(s.Ctx, s.Deadline)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(s.failure(what, err))
	}
}

// Attempt runs the actions of each try, then waits until done holds, each
// try for at most the TryTimeout, all of them until the session's deadline:
// on a loaded machine a click can miss a page that is still moving, and a
// page whose API call failed shows no buttons. A failed try is logged, with
// the page and the recent requests, and another starts over (steps gets its
// number, from 1, so that it can navigate back first); one that fails at the
// deadline fails the test. When done already holds after a failed try,
// Attempt returns.
func (s *Session) Attempt(t testing.TB, what string, done func() bool, steps func(try int) []chromedp.Action[chromedp.Void]) {
	t.Helper()
	for try := 1; try == 1 || !done(); try++ {
		tryDeadline := time.Now().Add(s.tryTimeout)
		if tryDeadline.After(s.Deadline) {
			tryDeadline = s.Deadline
		}
		ctx, cancel := context.WithDeadline(s.Ctx, tryDeadline)
		err := chromedp.Do(ctx, steps(try)...)
		if err == nil {
			err = Poll(ctx, done)
		}
		cancel()
		if err == nil {
			return
		}
		msg := s.failure(fmt.Sprintf("%s, try %d,", what, try), err)
		if time.Now().After(s.Deadline) {
			t.Fatal(msg)
		}
		t.Log(msg)
	}
}

// Screenshot saves a PNG of the whole page (beyond the window too) at path,
// creating its directory. A screenshot that cannot be taken or saved by the
// session's deadline (and within 30 s) is an error of the test, which goes
// on.
func (s *Session) Screenshot(t testing.TB, path string) {
	t.Helper()
	ctx, cancel := context.WithDeadline(s.Ctx, s.Deadline)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, png, 0o644)
	}
	if err != nil {
		t.Errorf("screenshot %s after %v: %v", path, s.Elapsed(), err)
		return
	}
	t.Logf("screenshot of %d bytes: %s", len(png), path)
}

// Poll waits until cond holds, checking every 10 ms, or until ctx ends.
func Poll(ctx context.Context, cond func() bool) error {
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

// Serve serves h on a test server, closed when the test ends, with a new
// Recorder noting the requests it serves.
func Serve(t testing.TB, h http.Handler) (*httptest.Server, *Recorder) {
	t.Helper()
	rec := &Recorder{}
	srv := httptest.NewServer(rec.Wrap(h))
	t.Cleanup(srv.Close)
	return srv, rec
}
