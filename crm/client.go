package crm

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// Redacted stands in for a secret wherever a CRM client prints, logs or
// scrubs one.
const Redacted = "[REDACTED]"

// Redact returns Redacted for a secret that is set and "" for one that is
// not, for describing a configuration: it tells whether the secret is set
// without showing it.
func Redact(secret string) string {
	if secret == "" {
		return ""
	}
	return Redacted
}

// NewJSONRequest returns a request to url that accepts a JSON answer and,
// when body is not nil, sends body as JSON. The caller adds its credentials.
func NewJSONRequest(ctx context.Context, method, url string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}
