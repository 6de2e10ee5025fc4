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
//
// # Replacing the key
//
// A [Keyring] seals under its current key and opens values sealed under the
// current key or any previous one (SYNCD_SECRET_KEY_PREVIOUS), so the key
// can be replaced while secrets sealed under the old one are still stored;
// [Keyring.Reseal] moves such a value to the current key:
//
//	ring, err := secrets.NewKeyring(newKey, oldKey)
//	clear, err := ring.Open(sealed, purpose)     // whichever key sealed it
//	resealed, err := ring.Reseal(sealed, purpose) // nil when already current
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

// Keyring seals under a current key and opens values sealed under the
// current key or any previous one. It is safe for concurrent use.
type Keyring struct {
	current  *Key
	previous []*Key
}

// NewKeyring returns a keyring that seals under current and opens with
// current, then with each previous key in order. A previous key that is the
// current key is an error (it would hide an unfinished key change). Errors
// never quote a key.
func NewKeyring(current *Key, previous ...*Key) (*Keyring, error) {
	if current == nil {
		return nil, errors.New("secrets: a keyring needs a current key")
	}
	for _, p := range previous {
		if p == nil {
			return nil, errors.New("secrets: a previous key is nil")
		}
		if p.same(current) {
			return nil, errors.New("secrets: the previous key is the current key; it must be the key being replaced")
		}
	}
	return &Keyring{current: current, previous: previous}, nil
}

// same reports whether k and other are the same key: each opens what the
// other sealed (a different key passes GCM's tag check with probability
// 2^-128).
func (k *Key) same(other *Key) bool {
	const probe Purpose = "syncd key comparison"
	_, err := other.Open(k.Seal("", probe), probe)
	return err == nil
}

// Seal encrypts plaintext for purpose under the current key.
func (r *Keyring) Seal(plaintext string, purpose Purpose) []byte {
	return r.current.Seal(plaintext, purpose)
}

// Open decrypts a value sealed for purpose under the current key or a
// previous one. It returns ErrCannotOpen when no key opens it.
func (r *Keyring) Open(sealed []byte, purpose Purpose) (string, error) {
	plain, err := r.current.Open(sealed, purpose)
	for _, k := range r.previous {
		if err == nil {
			break
		}
		plain, err = k.Open(sealed, purpose)
	}
	return plain, err
}

// Reseal returns the value sealed anew under the current key when only a
// previous key opens it, and nil when the current key opens it already (it
// needs no change). It returns ErrCannotOpen when no key opens it. The
// secret itself never leaves the keyring.
func (r *Keyring) Reseal(sealed []byte, purpose Purpose) ([]byte, error) {
	if _, err := r.current.Open(sealed, purpose); err == nil {
		return nil, nil
	}
	for _, k := range r.previous {
		if plain, err := k.Open(sealed, purpose); err == nil {
			return r.current.Seal(plain, purpose), nil
		}
	}
	return nil, ErrCannotOpen
}
