package kintonetest

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
)

// Messages of validation errors. Those marked "observed" are Kintone's
// English texts as recorded by projects that test against real Kintone; the
// others are this package's wording for errors whose code Kintone documents
// but whose text was not found.
const (
	msgRequired  = "Required."                                    // observed
	msgUnique    = "This value already exists in another record." // observed
	msgNotNumber = "Only numbers are allowed."                    // observed
	msgBadDate   = "Enter a date as YYYY-MM-DD."
	msgBadTime   = "Enter a date and time as YYYY-MM-DDTHH:MM:SSZ or with a UTC offset."
	msgBadURL    = "Enter a URL that starts with http:// or https://."
	msgMaxLength = "Enter less than %d characters."    // observed
	msgNotOption = "The value, %q, is not in options." // observed
)

var numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// validate checks and normalises rec's values in place and reports whether
// they are valid. It adds messages to errs under Kintone's keys: prefix
// ("record" or "records[i]") + ".CODE.value", or "[CODE].value" for a
// number that is not one, as Kintone does.
func (a *App) validate(t *txn, rec *storedRecord, prefix string, errs map[string][]string) bool {
	before := len(errs)
	add := func(key, msg string) { errs[key] = append(errs[key], msg) }
	for _, f := range a.fields {
		key := prefix + "." + f.Code + ".value"
		v, present := rec.values[f.Code]
		if multiTypes[f.Type] {
			l, _ := v.([]string)
			if f.Required && len(l) == 0 {
				add(key, msgRequired)
			}
			for i, o := range l {
				if !slices.Contains(f.Options, o) {
					add(fmt.Sprintf("%s.%s.values[%d].value", prefix, f.Code, i), fmt.Sprintf(msgNotOption, o))
				}
			}
			continue
		}
		s, _ := v.(string)
		if s == "" {
			if f.Required {
				add(key, msgRequired)
			}
			if present {
				rec.values[f.Code] = ""
			}
			continue
		}
		switch f.Type {
		case "NUMBER":
			if !numberRE.MatchString(s) {
				add(prefix+"["+f.Code+"].value", msgNotNumber)
				continue
			}
		case "DATE", "DATETIME":
			normalize, msg := normalizeDate, msgBadDate
			if f.Type == "DATETIME" {
				normalize, msg = normalizeDateTime, msgBadTime
			}
			d, ok := normalize(s)
			if !ok {
				add(key, msg)
				continue
			}
			s = d
		case "LINK":
			if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add(key, msgBadURL)
			}
		case "DROP_DOWN", "RADIO_BUTTON":
			if !slices.Contains(f.Options, s) {
				add(key, fmt.Sprintf(msgNotOption, s))
				continue
			}
		}
		if f.MaxLength > 0 && len(utf16.Encode([]rune(s))) > f.MaxLength {
			add(key, fmt.Sprintf(msgMaxLength, f.MaxLength+1))
		}
		rec.values[f.Code] = s
		if f.Unique {
			for id, other := range t.records {
				if id != rec.id && other.values[f.Code] == s {
					add(key, msgUnique)
					break
				}
			}
		}
	}
	return len(errs) == before
}

var (
	dateRE     = regexp.MustCompile(`^([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?$`)
	dateTimeRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$`)
)

// normalizeDate accepts the date forms Kintone documents — YYYY-MM-DD, and
// YYYY, YYYY-MM, YYYY-M, YYYY-M-D with the missing parts filled with 01 —
// and returns YYYY-MM-DD.
func normalizeDate(s string) (string, bool) {
	m := dateRE.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	y, _ := strconv.Atoi(m[1])
	mo, d := 1, 1
	if m[2] != "" {
		mo, _ = strconv.Atoi(m[2])
	}
	if m[3] != "" {
		d, _ = strconv.Atoi(m[3])
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// normalizeDateTime accepts YYYY-MM-DDTHH:MM:SSZ, a UTC offset instead of Z,
// or a date alone (midnight UTC), and returns the UTC form Kintone returns,
// with the seconds dropped as Kintone drops them.
func normalizeDateTime(s string) (string, bool) {
	if d, ok := normalizeDate(s); ok && len(s) == len(time.DateOnly) {
		return d + "T00:00:00Z", true
	}
	if !dateTimeRE.MatchString(s) {
		return "", false
	}
	layout := time.RFC3339
	if len(s) >= 17 && s[16] != ':' { // no seconds: YYYY-MM-DDTHH:MMZ
		layout = "2006-01-02T15:04Z07:00"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return "", false
	}
	return t.UTC().Truncate(time.Minute).Format("2006-01-02T15:04:05Z"), true
}
