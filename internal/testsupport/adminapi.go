package testsupport

import (
	"net/http/httptest"
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
