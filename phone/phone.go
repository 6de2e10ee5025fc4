// Package phone reads the phone numbers calls carry and lists the forms
// people write them in. Salesforce stores a phone field as it was typed
// ("03-1234-5678", "+81 3-1234-5678", "0312345678" are three values), so
// syncd looks a caller up by each usual form of the number (SPEC §5.6). It
// follows libphonenumber's rules through github.com/nyaruka/phonenumbers.
package phone

import (
	"errors"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is returned for a number libphonenumber does not take for a
// valid number of its region: too short, too long, an unknown area code,
// letters.
var ErrInvalid = errors.New("phone: not a valid phone number")

// Number is a phone number read by [Parse].
type Number struct {
	// E164 is the number in E.164: "+81312345678".
	E164 string
	// Forms are the usual written forms of the number, E164 first, then
	// the international ("+81 3-1234-5678") and national ("03-1234-5678")
	// formats, both with digits only ("81312345678", "0312345678"), and,
	// where the national format has them, without parentheses
	// ("415-555-2671" for "(415) 555-2671"). Each form is listed once.
	Forms []string
}

// Parse reads raw, a phone number as written, with region (an ISO 3166-1
// alpha-2 code such as "JP") for a number written without its country
// code. An extension is dropped: it is not part of the number a CRM
// stores. A number that is not valid returns ErrInvalid.
func Parse(raw, region string) (Number, error) {
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return Number{}, ErrInvalid
	}
	n.Extension = nil
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	international := phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	national := phonenumbers.Format(n, phonenumbers.NATIONAL)
	forms := []string{e164, international, national, digits(international), digits(national),
		strings.NewReplacer("(", "", ") ", "-", ")", "").Replace(national)}
	var out []string
	for _, f := range forms {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return Number{E164: e164, Forms: out}, nil
}

// ValidRegion reports whether region is a region code libphonenumber knows
// ("JP", "US", "GB", ...; upper or lower case).
func ValidRegion(region string) bool {
	return phonenumbers.GetSupportedRegions()[strings.ToUpper(region)]
}

// digits keeps the digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
