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

	"github.com/koeiq/syncd/crm"
)

func TestClassify(t *testing.T) {
	t.Parallel()

	api := func(status int, code string) error {
		return fmt.Errorf("job: %w", &APIError{Op: "upsert", StatusCode: status, Code: code})
	}
	tests := []struct {
		name string
		err  error
		want crm.Class
	}{
		{"nil", nil, 0},
		{"validation", api(400, "CB_VA01"), crm.ClassData},
		{"invalid JSON value", api(400, "CB_IJ01"), crm.ClassData},
		{"record not found", api(404, "GAIA_RE01"), crm.ClassData},
		{"update key not found", api(404, "GAIA_RE20"), crm.ClassData},
		{"unknown query field", api(400, "GAIA_IQ11"), crm.ClassData},
		{"query limit", api(400, "GAIA_QU01"), crm.ClassData},
		{"wrong token", api(400, "GAIA_IA02"), crm.ClassAuth},
		{"wrong token, old status", api(520, "GAIA_IA02"), crm.ClassAuth},
		{"token lacks permission", api(403, "GAIA_NO01"), crm.ClassAuth},
		{"no privilege", api(403, "CB_NO02"), crm.ClassAuth},
		{"not logged in", api(401, "CB_AU01"), crm.ClassAuth},
		{"unknown app", api(404, "GAIA_AP01"), crm.ClassAuth},
		{"duplicate token", api(400, "GAIA_DA03"), crm.ClassAuth},
		{"concurrency limit", api(429, "GAIA_TO04"), crm.ClassRateLimited},
		{"cursor limit", api(429, "GAIA_TM12"), crm.ClassRateLimited},
		{"429 without code", api(429, ""), crm.ClassRateLimited},
		{"database lock", api(520, "GAIA_RE18"), crm.ClassRetryable},
		{"database lock 2", api(500, "GAIA_DA02"), crm.ClassRetryable},
		{"revision conflict", api(409, "GAIA_CO02"), crm.ClassRetryable},
		{"503 from a load balancer", api(503, ""), crm.ClassRetryable},
		{"502", api(502, ""), crm.ClassRetryable},
		{"520 unknown code", api(520, "GAIA_XX99"), crm.ClassRetryable},
		{"401 without code", api(401, ""), crm.ClassAuth},
		{"403 without code", api(403, ""), crm.ClassAuth},
		{"404 without code: not Kintone", api(404, ""), crm.ClassAuth},
		{"redirect", api(302, ""), crm.ClassAuth},
		{"400 unknown code", api(400, "GAIA_ZZ01"), crm.ClassData},
		{"408", api(408, ""), crm.ClassRetryable},
		{"client-side input error", fmt.Errorf("x: %w", ErrInvalidInput), crm.ClassData},
		{"config error", fmt.Errorf("x: %w", ErrInvalidConfig), crm.ClassAuth},
		{"network error", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, crm.ClassRetryable},
		{"deadline", fmt.Errorf("kintone: add: %w", context.DeadlineExceeded), crm.ClassRetryable},
		{"unexpected EOF", io.ErrUnexpectedEOF, crm.ClassRetryable},
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
