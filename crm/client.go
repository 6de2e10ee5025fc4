package crm

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

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
