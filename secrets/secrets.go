// Package secrets seals the CRM credentials syncd stores (Salesforce client
// secrets, Kintone API tokens) with AES-256-GCM under the key given in
// SYNCD_SECRET_KEY, so they are never at rest in clear.
//
// A sealed value is a 12-byte random nonce followed by the ciphertext and
// its tag. Each value is bound to where it belongs (for example
// "salesforce client secret of tenant t1"): a sealed secret copied to
// another tenant's row does not open.
//
//	key, err := secrets.ParseKey(os.Getenv("SYNCD_SECRET_KEY"))
//	sealed := key.Seal(clientSecret, secrets.SalesforceClientSecret(tenantID))
//	clear, err := key.Open(sealed, secrets.SalesforceClientSecret(tenantID))
//
// Generate a key with `openssl rand -base64 32`.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrCannotOpen is returned when a sealed value does not open: a different
// key, a value of another tenant or purpose, or damaged bytes.
var ErrCannotOpen = errors.New("secrets: cannot open sealed value (wrong SYNCD_SECRET_KEY, or the value belongs elsewhere)")

// Key seals and opens secrets. It is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
}

// ParseKey parses the base64 encoding of a 32-byte key. Errors never quote
// the key.
func ParseKey(encoded string) (*Key, error) {
	encoded = strings.TrimSpace(encoded)
	if encoded == "" {
		return nil, errors.New("secrets: no key; set SYNCD_SECRET_KEY to the base64 of 32 random bytes (openssl rand -base64 32)")
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(encoded)
	}
	if err != nil {
		return nil, errors.New("secrets: the key is not valid base64")
	}
	if len(raw) != 32 {
		return nil, fmt.Errorf("secrets: the key is %d bytes, want 32 (AES-256)", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Key{aead: aead}, nil
}

// GenerateKey returns the base64 encoding of a new random key.
func GenerateKey() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(raw)
}

// Purpose says where a sealed value belongs; it is authenticated with the
// value.
type Purpose string

// SalesforceClientSecret is the purpose of a tenant's Salesforce client
// secret.
func SalesforceClientSecret(tenantID string) Purpose {
	return Purpose("salesforce client secret of tenant " + tenantID)
}

// KintoneAPIToken is the purpose of a tenant's Kintone API token.
func KintoneAPIToken(tenantID string) Purpose {
	return Purpose("kintone api token of tenant " + tenantID)
}

// Seal encrypts plaintext for purpose.
func (k *Key) Seal(plaintext string, purpose Purpose) []byte {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(purpose))
}

// Open decrypts a value sealed for purpose.
func (k *Key) Open(sealed []byte, purpose Purpose) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return "", ErrCannotOpen
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	if err != nil {
		return "", ErrCannotOpen
	}
	return string(plain), nil
}
