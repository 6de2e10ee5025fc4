package testsupport

import (
	"io"
	"net/http"
	"testing"
)

// Do sends req with http.DefaultClient and returns the response and its
// body, read and closed, failing the test when either fails.
func Do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the response: %v", req.Method, req.URL, err)
	}
	return resp, body
}
