package settings_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// rotationBundle is a database with stores sealing under three keys: the
// key being replaced, its successor and a key nobody has any more.
type rotationBundle struct {
	pool                 *pgxpool.Pool
	oldKey, newKey       *secrets.Key
	old, current, stolen *settings.Store // sealing under oldKey, newKey, an unknown key
}

func setupRotation(t *testing.T) *rotationBundle {
	t.Helper()
	b := &rotationBundle{pool: pgtest.Pool(t), oldKey: newKey(t), newKey: newKey(t)}
	b.old = b.newStore(t, &settings.Config{Key: b.oldKey})
	b.current = b.newStore(t, &settings.Config{Key: b.newKey})
	b.stolen = b.newStore(t, &settings.Config{Key: newKey(t)})
	return b
}

func newKey(t *testing.T) *secrets.Key {
	t.Helper()
	k, err := secrets.ParseKey(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (b *rotationBundle) newStore(t *testing.T, cfg *settings.Config) *settings.Store {
	t.Helper()
	s, err := settings.NewStore(b.pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// save stores disabled Salesforce and Kintone settings of tenant id (no
// live check) with secrets sealed by store, and returns the secrets.
func (b *rotationBundle) save(t *testing.T, store *settings.Store, id string) (sfSecret, ktToken string) {
	t.Helper()
	ctx := context.Background()
	sfSecret, ktToken = "sf-secret-of-"+id, "kt-token-of-"+id
	if _, err := store.SetTenant(ctx, id, settings.TenantChange{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SaveSalesforce(ctx, id, settings.SalesforceInput{InstanceURL: "https://" + id + ".my.salesforce.com",
		ClientID: id + "-key", ClientSecret: &sfSecret}, "admin@"+id); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SaveKintone(ctx, id, settings.KintoneInput{BaseURL: "https://" + id + ".cybozu.com", AppID: 7,
		APIToken: &ktToken}, "admin@"+id); err != nil {
		t.Fatal(err)
	}
	return sfSecret, ktToken
}

// secretsOf returns what store opens of the tenant's secrets.
func secretsOf(ctx context.Context, store *settings.Store, id string) (sfSecret, ktToken string, err error) {
	_, sf, err := store.SalesforceConfig(ctx, id)
	if err != nil {
		return "", "", err
	}
	_, kt, err := store.KintoneConfig(ctx, id)
	return string(sf.ClientSecret), string(kt.APIToken), err
}

// A store given the replaced key as a previous key reads settings sealed
// under either key, and seals only under the current one.
func TestPreviousKeyOpens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupRotation(t)
	oldSF, oldKT := b.save(t, b.old, "t1")
	rotating := b.newStore(t, &settings.Config{Key: b.newKey, PreviousKeys: []*secrets.Key{b.oldKey}})
	newSF, newKT := b.save(t, rotating, "t2")

	for id, want := range map[string][2]string{"t1": {oldSF, oldKT}, "t2": {newSF, newKT}} {
		sf, kt, err := secretsOf(ctx, rotating, id)
		if err != nil || sf != want[0] || kt != want[1] {
			t.Errorf("%s through the store with the previous key: %q, %q, %v; want %q, %q", id, sf, kt, err, want[0], want[1])
		}
	}
	// What the rotating store saved is under the new key only.
	if _, _, err := secretsOf(ctx, b.current, "t2"); err != nil {
		t.Errorf("t2 with the new key alone: %v", err)
	}
	if _, _, err := secretsOf(ctx, b.old, "t2"); !errors.Is(err, secrets.ErrCannotOpen) {
		t.Errorf("t2 with the old key: %v; want ErrCannotOpen", err)
	}
	// Without the previous key, t1's secrets do not open, and the error
	// names neither the secret nor the key.
	_, _, err := secretsOf(ctx, b.current, "t1")
	if !errors.Is(err, secrets.ErrCannotOpen) || strings.Contains(err.Error(), oldSF) {
		t.Errorf("t1 without the previous key: %v; want ErrCannotOpen", err)
	}

	if _, err := settings.NewStore(b.pool, &settings.Config{Key: b.newKey, PreviousKeys: []*secrets.Key{b.newKey}}); err == nil {
		t.Error("NewStore accepted the current key as a previous key")
	}
}

// settingsRow is what re-sealing must and must not change in a settings row.
type settingsRow struct {
	Sealed    []byte
	UpdatedAt time.Time
	UpdatedBy string
	Attention *string
}

// rows returns the settings rows of a table by "table/tenant".
func (b *rotationBundle) rows(t *testing.T) map[string]settingsRow {
	t.Helper()
	out := map[string]settingsRow{}
	for table, column := range map[string]string{"salesforce_settings": "client_secret_encrypted", "kintone_settings": "api_token_encrypted"} {
		rows, _ := b.pool.Query(context.Background(), fmt.Sprintf(
			"SELECT tenant_id, %s, updated_at, updated_by, attention FROM %s", column, table))
		var id string
		var r settingsRow
		if _, err := pgx.ForEachRow(rows, []any{&id, &r.Sealed, &r.UpdatedAt, &r.UpdatedBy, &r.Attention}, func() error {
			out[table+"/"+id] = r
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestResealSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupRotation(t)

	// Five tenants under the old key, two under the new one, one under a
	// key nobody has: with two rows a batch, every table takes several.
	want := map[string][2]string{}
	for i := range 5 {
		id := fmt.Sprintf("old-%d", i)
		sf, kt := b.save(t, b.old, id)
		want[id] = [2]string{sf, kt}
	}
	for _, id := range []string{"cur-0", "cur-1"} {
		sf, kt := b.save(t, b.current, id)
		want[id] = [2]string{sf, kt}
	}
	lostSF, lostKT := b.save(t, b.stolen, "lost")
	// A tenant whose credentials Salesforce refused keeps its mark.
	st, err := b.old.Salesforce(ctx, "old-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.old.MarkSalesforceAttention(ctx, "old-1", st.UpdatedAt, "invalid_client"); err != nil {
		t.Fatal(err)
	}
	before := b.rows(t)

	rotating := b.newStore(t, &settings.Config{Key: b.newKey, PreviousKeys: []*secrets.Key{b.oldKey}, ResealBatchSize: 2})
	report, err := rotating.ResealSecrets(ctx)
	var unopenable *settings.UnopenableError
	if !errors.As(err, &unopenable) || !errors.Is(err, secrets.ErrCannotOpen) {
		t.Fatalf("ResealSecrets error = %v; want an *UnopenableError", err)
	}
	wantLost := []secrets.Purpose{secrets.SalesforceClientSecret("lost"), secrets.KintoneAPIToken("lost")}
	if report.Resealed != 10 || report.Current != 4 || !slices.Equal(report.Unopenable, wantLost) || !slices.Equal(unopenable.Secrets, wantLost) {
		t.Errorf("first run: %+v, %v; want 10 re-sealed, 4 current, %v unopenable", report, err, wantLost)
	}
	for _, secret := range []string{lostSF, lostKT, want["old-0"][0]} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q holds a secret", err)
		}
	}

	after := b.rows(t)
	if len(after) != len(before) {
		t.Fatalf("%d rows after, %d before", len(after), len(before))
	}
	for name, a := range after {
		was := before[name]
		if !a.UpdatedAt.Equal(was.UpdatedAt) || a.UpdatedBy != was.UpdatedBy || !equalPtr(a.Attention, was.Attention) {
			t.Errorf("%s: re-sealing changed the row: %v %q %v, was %v %q %v", name,
				a.UpdatedAt, a.UpdatedBy, a.Attention, was.UpdatedAt, was.UpdatedBy, was.Attention)
		}
		changed := !bytes.Equal(a.Sealed, was.Sealed)
		if wantChange := strings.Contains(name, "/old-"); changed != wantChange {
			t.Errorf("%s: sealed value changed = %v, want %v", name, changed, wantChange)
		}
	}
	if a := after["salesforce_settings/old-1"]; a.Attention == nil || *a.Attention != "invalid_client" {
		t.Errorf("old-1 attention after re-sealing = %v", a.Attention)
	}

	// The previous key is no longer needed; the lost secrets still do not open.
	for id, w := range want {
		sf, kt, err := secretsOf(ctx, b.current, id)
		if err != nil || sf != w[0] || kt != w[1] {
			t.Errorf("%s with the new key alone: %q, %q, %v; want %q, %q", id, sf, kt, err, w[0], w[1])
		}
	}
	if _, _, err := secretsOf(ctx, rotating, "lost"); !errors.Is(err, secrets.ErrCannotOpen) {
		t.Errorf("lost: %v; want ErrCannotOpen", err)
	}
	// The settings version is the same, so a refusal seen with the settings
	// read before re-sealing is still recorded.
	if err := b.current.MarkSalesforceAttention(ctx, "old-2", before["salesforce_settings/old-2"].UpdatedAt, "invalid_grant"); err != nil {
		t.Fatal(err)
	}
	if st, err := b.current.Salesforce(ctx, "old-2"); err != nil || st.Attention != "invalid_grant" {
		t.Errorf("old-2 after marking with the version read before re-sealing: %+v, %v", st, err)
	}

	// Again: nothing to do, and nothing changes.
	sealedAfter := b.rows(t)
	report, err = rotating.ResealSecrets(ctx)
	if !errors.As(err, &unopenable) || report.Resealed != 0 || report.Current != 14 || len(report.Unopenable) != 2 {
		t.Errorf("second run: %+v, %v; want 0 re-sealed, 14 current, 2 unopenable", report, err)
	}
	for name, a := range b.rows(t) {
		if !bytes.Equal(a.Sealed, sealedAfter[name].Sealed) {
			t.Errorf("%s: the second run changed the sealed value", name)
		}
	}
}

// With every secret opening, ResealSecrets returns no error, and a store
// without previous keys counts every secret as current.
func TestResealSecretsAllCurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupRotation(t)
	b.save(t, b.old, "t1")
	if r, err := b.old.ResealSecrets(ctx); err != nil || r.Resealed != 0 || r.Current != 2 || r.Unopenable != nil {
		t.Errorf("ResealSecrets = %+v, %v; want 2 current", r, err)
	}
	rotating := b.newStore(t, &settings.Config{Key: b.newKey, PreviousKeys: []*secrets.Key{b.oldKey}})
	if r, err := rotating.ResealSecrets(ctx); err != nil || r.Resealed != 2 || r.Current != 0 {
		t.Errorf("ResealSecrets = %+v, %v; want 2 re-sealed", r, err)
	}
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
