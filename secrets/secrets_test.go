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
