package phone_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/koeiq/syncd/phone"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tokyo := []string{"+81312345678", "+81 3-1234-5678", "03-1234-5678", "81312345678", "0312345678"}
	mobile := []string{"+819012345678", "+81 90-1234-5678", "090-1234-5678", "819012345678", "09012345678"}
	sf := []string{"+14155552671", "+1 415-555-2671", "(415) 555-2671", "14155552671", "4155552671", "415-555-2671"}
	for _, tt := range []struct {
		raw, region string
		forms       []string
	}{
		// Japanese numbers as written, with the tenant's region or their own.
		{"03-1234-5678", "JP", tokyo},
		{"0312345678", "JP", tokyo},
		{"+81 3 1234 5678", "JP", tokyo},
		{"+81-3-1234-5678", "US", tokyo},
		{"(03) 1234-5678", "jp", tokyo},
		{"090-1234-5678", "JP", mobile},
		{"+819012345678", "", mobile},
		// US numbers.
		{"(415) 555-2671", "US", sf},
		{"415.555.2671", "US", sf},
		{"+1 415 555 2671", "JP", sf},
		{"1-415-555-2671", "US", sf},
		{"+1 415-555-2671 ext. 12", "US", sf},
		// Full-width digits, as Japanese input methods type them.
		{"０３－１２３４－５６７８", "JP", tokyo},
	} {
		n, err := phone.Parse(tt.raw, tt.region)
		if err != nil || n.E164 != tt.forms[0] || !slices.Equal(n.Forms, tt.forms) {
			t.Errorf("Parse(%q, %q) = %+v, %v; want %v", tt.raw, tt.region, n, err, tt.forms)
		}
	}
	for _, tt := range []struct{ raw, region string }{
		{"12", "JP"},                 // too short
		{"03-1234-5678", ""},         // no country code, no region
		{"03-1234-5678", "XX"},       // unknown region
		{"+81 3 1234 5678 9999", ""}, // too long
		{"call me", "JP"},
		{"", "JP"},
	} {
		if n, err := phone.Parse(tt.raw, tt.region); !errors.Is(err, phone.ErrInvalid) {
			t.Errorf("Parse(%q, %q) = %+v, %v; want ErrInvalid", tt.raw, tt.region, n, err)
		}
	}
}

func TestValidRegion(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]bool{"JP": true, "us": true, "GB": true, "XX": false, "": false, "JPN": false} {
		if got := phone.ValidRegion(region); got != want {
			t.Errorf("ValidRegion(%q) = %v", region, got)
		}
	}
}
