package testsupport

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// NewStore returns a settings store on pool with cfg, sealing secrets with
// a fresh key when cfg.Key is nil.
func NewStore(t testing.TB, pool *pgxpool.Pool, cfg settings.Config) *settings.Store {
	t.Helper()
	if cfg.Key == nil {
		cfg.Key = NewKey(t)
	}
	store, err := settings.NewStore(pool, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// NewResumingStore is NewStore with the AfterSave hook syncd sets,
// jobs.ResumePushes for pgtest.Schema: saving a tenant's settings makes its
// waiting push jobs due at once, as in the daemon.
func NewResumingStore(t testing.TB, pool *pgxpool.Pool, cfg settings.Config) *settings.Store {
	t.Helper()
	resume, err := jobs.ResumePushes(pgtest.Schema)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AfterSave = resume
	return NewStore(t, pool, cfg)
}

// NewKey returns a fresh secrets key.
func NewKey(t testing.TB) *secrets.Key {
	t.Helper()
	key, err := secrets.ParseKey(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return key
}
