package testsupport

import (
	"testing"

	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// FakeCRMs starts a fake Salesforce and a fake Kintone, both closed when the
// test ends.
func FakeCRMs(t testing.TB) (*salesforcetest.Server, *kintonetest.Server) {
	t.Helper()
	sf := salesforcetest.NewServer()
	t.Cleanup(sf.Close)
	kt := kintonetest.NewServer()
	t.Cleanup(kt.Close)
	return sf, kt
}
