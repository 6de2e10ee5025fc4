package crm_test

import (
	"log/slog"
	"testing"

	"github.com/koeiq/syncd/crm"
)

func TestErrorText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status        int
		code, message string
		want          string
	}{
		{400, "CB_VA01", "Missing or invalid input.", "acme: add: HTTP 400 CB_VA01: Missing or invalid input."},
		{502, "", "", "acme: add: HTTP 502"},
		{404, "", "Not Found", "acme: add: HTTP 404: Not Found"},
		{0, "", "too many records", "acme: add: not sent: too many records"},
	} {
		if got := crm.ErrorText("acme", "add", tt.status, tt.code, tt.message); got != tt.want {
			t.Errorf("ErrorText(%d, %q, %q) = %q, want %q", tt.status, tt.code, tt.message, got, tt.want)
		}
	}
}

func TestErrorAttrs(t *testing.T) {
	t.Parallel()
	got := slog.GroupValue(crm.ErrorAttrs("add", 400, "CB_VA01")...).String()
	if want := "[op=add status=400 code=CB_VA01]"; got != want {
		t.Errorf("ErrorAttrs = %s, want %s", got, want)
	}
}
