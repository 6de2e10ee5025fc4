package testsupport

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

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

// NewKey returns a fresh secrets key.
func NewKey(t testing.TB) *secrets.Key {
	t.Helper()
	key, err := secrets.ParseKey(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return key
}
