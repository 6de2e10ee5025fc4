package testsupport

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/koeiq/syncd/admin"
)

// AdminAPI serves the admin API configured by cfg, closed when the test
// ends.
func AdminAPI(t testing.TB, cfg *admin.Config) *httptest.Server {
	t.Helper()
	h, err := admin.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// AdminRequest sends an admin API request to api, with tok as its bearer
// token unless tok is empty, and returns the response and its body, read.
// A string body is sent as it is, any other as JSON; nil sends none.
func AdminRequest(t testing.TB, api *httptest.Server, method, path, tok string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		buf, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, api.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return Do(t, req)
}
