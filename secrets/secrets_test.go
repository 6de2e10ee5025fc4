package secrets_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/koeiq/syncd/secrets"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	key, err := secrets.ParseKey(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	const secret = "3MVG9-client-secret"
	sealed := key.Seal(secret, secrets.SalesforceClientSecret("t1"))
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed value holds the secret in clear")
	}
	if again := key.Seal(secret, secrets.SalesforceClientSecret("t1")); bytes.Equal(again, sealed) {
		t.Fatal("two seals of one secret are equal: nonce reused")
	}
	got, err := key.Open(sealed, secrets.SalesforceClientSecret("t1"))
	if err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}

	other, _ := secrets.ParseKey(secrets.GenerateKey())
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)-1] ^= 1
	for name, open := range map[string]func() (string, error){
		"other tenant":  func() (string, error) { return key.Open(sealed, secrets.SalesforceClientSecret("t2")) },
		"other purpose": func() (string, error) { return key.Open(sealed, secrets.KintoneAPIToken("t1")) },
		"other key":     func() (string, error) { return other.Open(sealed, secrets.SalesforceClientSecret("t1")) },
		"damaged":       func() (string, error) { return key.Open(damaged, secrets.SalesforceClientSecret("t1")) },
		"short":         func() (string, error) { return key.Open(sealed[:5], secrets.SalesforceClientSecret("t1")) },
	} {
		if got, err := open(); !errors.Is(err, secrets.ErrCannotOpen) || got != "" {
			t.Errorf("%s: Open = %q, %v; want ErrCannotOpen", name, got, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	short := base64.StdEncoding.EncodeToString([]byte("only-sixteen-byt"))
	for _, bad := range []string{"", "not base64 !!", short} {
		_, err := secrets.ParseKey(bad)
		if err == nil {
			t.Errorf("ParseKey(%q) = nil error", bad)
			continue
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("ParseKey error %q quotes the key", err)
		}
	}
	if _, err := secrets.ParseKey(" " + secrets.GenerateKey() + "\n"); err != nil {
		t.Errorf("key with surrounding space: %v", err)
	}
}

func TestKeyring(t *testing.T) {
	t.Parallel()
	newKey := func() *secrets.Key {
		t.Helper()
		k, err := secrets.ParseKey(secrets.GenerateKey())
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	oldKey, curKey, unknown := newKey(), newKey(), newKey()
	ring, err := secrets.NewKeyring(curKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "kintone-token-9f8e"
	purpose := secrets.KintoneAPIToken("t1")

	// Open: whichever key sealed it.
	underOld, underCur, underUnknown := oldKey.Seal(secret, purpose), ring.Seal(secret, purpose), unknown.Seal(secret, purpose)
	for name, sealed := range map[string][]byte{"previous key": underOld, "current key": underCur} {
		if got, err := ring.Open(sealed, purpose); err != nil || got != secret {
			t.Errorf("%s: Open = %q, %v", name, got, err)
		}
	}
	if got, err := curKey.Open(underCur, purpose); err != nil || got != secret {
		t.Errorf("Keyring.Seal does not seal under the current key: %q, %v", got, err)
	}
	if got, err := ring.Open(underUnknown, purpose); !errors.Is(err, secrets.ErrCannotOpen) || got != "" {
		t.Errorf("unknown key: Open = %q, %v; want ErrCannotOpen", got, err)
	}
	if _, err := ring.Open(underOld, secrets.KintoneAPIToken("t2")); !errors.Is(err, secrets.ErrCannotOpen) {
		t.Errorf("previous key, other tenant: %v; want ErrCannotOpen", err)
	}

	// Reseal: only what a previous key sealed changes.
	resealed, err := ring.Reseal(underOld, purpose)
	if err != nil || resealed == nil {
		t.Fatalf("Reseal(previous) = %x, %v", resealed, err)
	}
	if got, err := curKey.Open(resealed, purpose); err != nil || got != secret {
		t.Errorf("re-sealed value under the current key: %q, %v", got, err)
	}
	if bytes.Contains(resealed, []byte(secret)) {
		t.Error("re-sealed value holds the secret in clear")
	}
	if again, err := ring.Reseal(underCur, purpose); err != nil || again != nil {
		t.Errorf("Reseal(current) = %x, %v; want nil, nil", again, err)
	}
	if got, err := ring.Reseal(underUnknown, purpose); !errors.Is(err, secrets.ErrCannotOpen) || got != nil {
		t.Errorf("Reseal(unknown) = %x, %v; want ErrCannotOpen", got, err)
	}

	// A keyring without previous keys opens only what the current key sealed.
	only, err := secrets.NewKeyring(curKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := only.Open(underOld, purpose); !errors.Is(err, secrets.ErrCannotOpen) {
		t.Errorf("no previous key: Open(previous) = %v; want ErrCannotOpen", err)
	}
}

func TestNewKeyring(t *testing.T) {
	t.Parallel()
	encoded := secrets.GenerateKey()
	cur, _ := secrets.ParseKey(encoded)
	same, _ := secrets.ParseKey(encoded) // parsed again: equal, not identical
	other, _ := secrets.ParseKey(secrets.GenerateKey())
	for name, tc := range map[string]struct {
		current  *secrets.Key
		previous []*secrets.Key
	}{
		"no current key":          {nil, []*secrets.Key{other}},
		"nil previous key":        {cur, []*secrets.Key{nil}},
		"previous is current":     {cur, []*secrets.Key{same}},
		"one previous is current": {cur, []*secrets.Key{other, cur}},
	} {
		ring, err := secrets.NewKeyring(tc.current, tc.previous...)
		if err == nil || ring != nil {
			t.Errorf("%s: NewKeyring = %v, %v; want an error", name, ring, err)
			continue
		}
		if strings.Contains(err.Error(), encoded) {
			t.Errorf("%s: error %q quotes the key", name, err)
		}
	}
	if _, err := secrets.NewKeyring(cur, other); err != nil {
		t.Errorf("two different keys: %v", err)
	}
}
