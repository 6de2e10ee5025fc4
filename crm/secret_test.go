package crm_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/internal/testsupport"
)

func TestSecretString(t *testing.T) {
	t.Parallel()
	if got := crm.Secret("s3cret").String(); got != "[REDACTED]" {
		t.Errorf("Secret(secret).String() = %q, want [REDACTED]", got)
	}
	if got := crm.Secret("").String(); got != "" {
		t.Errorf(`Secret("").String() = %q, want ""`, got)
	}
}

// TestSecretNeverShows checks that a Secret, alone or in a struct, is
// [REDACTED] however it is printed, marshalled or logged.
func TestSecretNeverShows(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-token-value"
	type config struct {
		URL    string
		Secret crm.Secret
	}
	cfg := config{URL: "https://crm.example", Secret: secret}
	for _, out := range testsupport.Renderings(t, crm.Secret(secret), cfg, &cfg) {
		if strings.Contains(out, secret) {
			t.Errorf("secret shown in %q", out)
		}
	}

	for verb, want := range map[string]string{
		"%v":  "{https://crm.example [REDACTED]}",
		"%+v": "{URL:https://crm.example Secret:[REDACTED]}",
		"%#v": `crm_test.config{URL:"https://crm.example", Secret:"[REDACTED]"}`,
	} {
		if got := fmt.Sprintf(verb, cfg); got != want {
			t.Errorf("Sprintf(%q) = %s, want %s", verb, got, want)
		}
	}
	if got := fmt.Sprintf("%q|%12s|", crm.Secret(secret), crm.Secret(secret)); got != `"[REDACTED]"|  [REDACTED]|` {
		t.Errorf("Secret with %%q and %%12s = %s", got)
	}
	got, err := json.Marshal(config{Secret: secret})
	if err != nil || string(got) != `{"URL":"","Secret":"[REDACTED]"}` {
		t.Errorf("json.Marshal = %s, %v", got, err)
	}
	if got, err := json.Marshal(config{}); err != nil || string(got) != `{"URL":"","Secret":""}` {
		t.Errorf("json.Marshal without a secret = %s, %v", got, err)
	}
}
