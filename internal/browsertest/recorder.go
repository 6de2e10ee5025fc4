package browsertest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Request is a request a Recorder's handler received, and its answer.
type Request struct {
	Method, Path string
	Origin       string // the Origin header
	Site         string // the Sec-Fetch-Site header
	ContentType  string // the Content-Type header
	Status       int
	Took         time.Duration
}

// Recorder notes the requests a handler receives. The zero Recorder is ready
// to use; it is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Wrap returns h noting each request it serves, once served.
func (rec *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		began := time.Now()
		h.ServeHTTP(sw, r)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.reqs = append(rec.reqs, Request{r.Method, r.URL.Path, r.Header.Get("Origin"),
			r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Content-Type"), sw.status, time.Since(began)})
	})
}

// String lists the last 60 requests, one a line.
func (rec *Recorder) String() string {
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
			r.Method, r.Path, r.Status, r.Took.Round(time.Millisecond), r.Origin, r.Site, r.ContentType)
	}
	return b.String()
}

// Find returns the last request with method and path.
func (rec *Recorder) Find(method, path string) (Request, bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := len(rec.reqs) - 1; i >= 0; i-- {
		if r := rec.reqs[i]; r.Method == method && r.Path == path {
			return r, true
		}
	}
	return Request{}, false
}

// Requests returns a copy of the requests noted so far, oldest first.
func (rec *Recorder) Requests() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Request(nil), rec.reqs...)
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

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true // an implicit 200
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
