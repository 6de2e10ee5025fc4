package crm_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/koeiq/syncd/crm"
)

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
