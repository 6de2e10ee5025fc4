package kintone

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()

	api := func(status int, code string) error {
		return fmt.Errorf("job: %w", &APIError{Op: "upsert", StatusCode: status, Code: code})
	}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, 0},
		{"validation", api(400, "CB_VA01"), ClassData},
		{"invalid JSON value", api(400, "CB_IJ01"), ClassData},
		{"record not found", api(404, "GAIA_RE01"), ClassData},
		{"update key not found", api(404, "GAIA_RE20"), ClassData},
		{"unknown query field", api(400, "GAIA_IQ11"), ClassData},
		{"query limit", api(400, "GAIA_QU01"), ClassData},
		{"wrong token", api(400, "GAIA_IA02"), ClassAuth},
		{"wrong token, old status", api(520, "GAIA_IA02"), ClassAuth},
		{"token lacks permission", api(403, "GAIA_NO01"), ClassAuth},
		{"no privilege", api(403, "CB_NO02"), ClassAuth},
		{"not logged in", api(401, "CB_AU01"), ClassAuth},
		{"unknown app", api(404, "GAIA_AP01"), ClassAuth},
		{"duplicate token", api(400, "GAIA_DA03"), ClassAuth},
		{"concurrency limit", api(429, "GAIA_TO04"), ClassRateLimited},
		{"cursor limit", api(429, "GAIA_TM12"), ClassRateLimited},
		{"429 without code", api(429, ""), ClassRateLimited},
		{"database lock", api(520, "GAIA_RE18"), ClassRetryable},
		{"database lock 2", api(500, "GAIA_DA02"), ClassRetryable},
		{"revision conflict", api(409, "GAIA_CO02"), ClassRetryable},
		{"503 from a load balancer", api(503, ""), ClassRetryable},
		{"502", api(502, ""), ClassRetryable},
		{"520 unknown code", api(520, "GAIA_XX99"), ClassRetryable},
		{"401 without code", api(401, ""), ClassAuth},
		{"403 without code", api(403, ""), ClassAuth},
		{"404 without code: not Kintone", api(404, ""), ClassAuth},
		{"redirect", api(302, ""), ClassAuth},
		{"400 unknown code", api(400, "GAIA_ZZ01"), ClassData},
		{"408", api(408, ""), ClassRetryable},
		{"client-side input error", fmt.Errorf("x: %w", ErrInvalidInput), ClassData},
		{"config error", fmt.Errorf("x: %w", ErrInvalidConfig), ClassAuth},
		{"network error", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, ClassRetryable},
		{"deadline", fmt.Errorf("kintone: add: %w", context.DeadlineExceeded), ClassRetryable},
		{"unexpected EOF", io.ErrUnexpectedEOF, ClassRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestAPIErrorTexts(t *testing.T) {
	t.Parallel()

	e := &APIError{
		Op:         "upsert",
		StatusCode: 400,
		Code:       "CB_VA01",
		ID:         "abc123",
		Message:    "Missing or invalid input.",
		Fields: map[string][]string{
			"records[0].summary.value":           {"Enter less than 65536 characters: secret call content"},
			"records[0][duration_seconds].value": {"Only numbers are allowed."},
		},
	}

	want := "kintone: upsert: HTTP 400 CB_VA01: Missing or invalid input. (" +
		"records[0].summary.value: Enter less than 65536 characters: secret call content; " +
		"records[0][duration_seconds].value: Only numbers are allowed.) [id abc123]"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}

	if got, want := e.FieldCodes(), []string{"duration_seconds", "summary"}; !slices.Equal(got, want) {
		t.Errorf("FieldCodes() = %q, want %q", got, want)
	}

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("push failed", slog.Any("error", e))
	logged := buf.String()
	for _, want := range []string{`"op":"upsert"`, `"status":400`, `"code":"CB_VA01"`, `"fields":["duration_seconds","summary"]`} {
		if !strings.Contains(logged, want) {
			t.Errorf("log %s lacks %s", logged, want)
		}
	}
	for _, banned := range []string{"secret call content", "Missing or invalid", "Only numbers"} {
		if strings.Contains(logged, banned) {
			t.Errorf("log %s contains message text %q", logged, banned)
		}
	}
}

func TestFieldCodeOfErrorKey(t *testing.T) {
	t.Parallel()

	tests := map[string]string{
		"record.call_id.value":            "call_id",
		"record[duration_seconds].value":  "duration_seconds",
		"records[12].call_id.value":       "call_id",
		"records[0][quality_score].value": "quality_score",
		"record.tags.values[1].value":     "tags",
		"records[3].updateKey.field":      "updateKey",
		"query":                           "query",
		"app":                             "app",
		"records":                         "records",
		"recordsomething":                 "recordsomething",
	}
	for key, want := range tests {
		if got := fieldCodeOfErrorKey(key); got != want {
			t.Errorf("fieldCodeOfErrorKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestClassString(t *testing.T) {
	t.Parallel()

	for c, want := range map[Class]string{0: "none", ClassRetryable: "retryable", ClassRateLimited: "rate_limited", ClassAuth: "auth", ClassData: "data"} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}
