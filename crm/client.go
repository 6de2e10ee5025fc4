package crm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// Redacted stands in for a secret wherever a CRM client prints, logs or
// scrubs one.
const Redacted = "[REDACTED]"

// Secret is a credential a CRM client sends, such as a Salesforce client
// secret or a Kintone API token. It never shows itself: printed with any
// fmt verb, marshalled as JSON or text, or logged with slog, a Secret that
// is set is [Redacted] and an empty one is "", which tells whether it is set
// without showing it. A struct holding a Secret can therefore be printed,
// dumped or logged whole. Only a conversion, string(s), gives the secret, to
// the code that sends it.
type Secret string

// String returns [Redacted], or "" when s is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// Format formats what String returns as a string would be formatted with
// the same verb, flags and width, so that no verb, %#v and %x included,
// shows the secret.
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalText returns what String returns. encoding/json and the other
// encoders that honour [encoding.TextMarshaler] use it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue logs what String returns.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

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
