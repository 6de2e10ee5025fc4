package crm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

func TestNewJSONRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	req, err := crm.NewJSONRequest(ctx, http.MethodPost, "https://crm.example/api", []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || req.URL.String() != "https://crm.example/api" || string(body) != `{"a":1}` {
		t.Errorf("request = %s %s %s", req.Method, req.URL, body)
	}
	if req.Header.Get("Accept") != "application/json" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v, want JSON Accept and Content-Type", req.Header)
	}

	req, err = crm.NewJSONRequest(ctx, http.MethodGet, "https://crm.example/api", nil)
	if err != nil {
		t.Fatal(err)
	}
	if req.Body != nil || req.Header.Get("Accept") != "application/json" || req.Header.Get("Content-Type") != "" {
		t.Errorf("GET without a body: body %v, headers %v", req.Body, req.Header)
	}

	if _, err := crm.NewJSONRequest(ctx, "BAD METHOD", "https://crm.example/api", nil); err == nil {
		t.Error("invalid method accepted")
	}
}
