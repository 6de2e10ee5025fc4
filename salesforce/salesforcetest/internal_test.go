package salesforcetest

import (
	"slices"
	"strings"
	"testing"
)

func TestChecksum(t *testing.T) {
	t.Parallel()
	// IDs from Salesforce's documentation.
	for id15, want := range map[string]string{
		"001D000000IqhSL": "IAZ",
		"00190000001pPvH": "AAU",
		"001D000000Kv3g5": "IAB",
		"001xx0000004GxD": "AAU",
		"000000000000000": "AAA",
		"ZZZZZZZZZZZZZZZ": "555",
	} {
		if got := checksum(id15); got != want {
			t.Errorf("checksum(%s) = %s, want %s", id15, got, want)
		}
	}
}

func TestMakeID(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for n := range uint64(2000) {
		id := makeID("00T", "4t", 916_132_832+n*7919)
		if len(id) != 18 || !strings.HasPrefix(id, "00T4t0") {
			t.Fatalf("makeID = %q, want 18 characters starting with 00T4t0", id)
		}
		if checksum(id[:15]) != id[15:] {
			t.Fatalf("makeID = %q has a wrong checksum", id)
		}
		if seen[strings.ToLower(id)] {
			t.Fatalf("makeID = %q repeats case-insensitively", id)
		}
		seen[strings.ToLower(id)] = true
	}
}

func TestCanonicalID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"001D000000IqhSL", "001D000000IqhSLIAZ"},
		{"001D000000IqhSLIAZ", "001D000000IqhSLIAZ"},
		{"001d000000iqhsliaz", "001D000000IqhSLIAZ"}, // 18-character IDs are case-insensitive
		{"001D000000IQHSLIAZ", "001D000000IqhSLIAZ"},
		{"001D000000IqhSLIAA", "001D000000iqhslIAA"}, // the suffix decides the case
		{"001D000000IqhSLBAZ", ""},                   // the suffix marks a digit upper-case
		{"001D000000IqhSL999", ""},                   // not a suffix character
		{"001D000000IqhS", ""},                       // 14
		{"001D000000IqhSLIA", ""},                    // 17
		{"001D000000Iqh-LIAZ", ""},                   // not alphanumeric
		{"001D000000IqhSLIAZ0", ""},                  // 19
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := canonicalID(tt.in)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("canonicalID(%q) = %q, %t; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseSOQL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q          string
		wantFields []string
		wantObject string
		wantValues []string // decoded literals of the WHERE conditions
		wantLimit  int
	}{
		{"SELECT Id FROM Task", []string{"Id"}, "Task", nil, -1},
		{"select Id, Subject from Task where Subject = 'x' limit 1", []string{"Id", "Subject"}, "Task", []string{"x"}, 1},
		{`SELECT Id FROM Task WHERE Subject = 'a\'b\\c'`, []string{"Id"}, "Task", []string{`a'b\c`}, -1},
		{`SELECT Id FROM Task WHERE Subject = '\n\r\t\b\f\"'`, []string{"Id"}, "Task", []string{"\n\r\t\b\f\""}, -1},
		{`SELECT Id FROM Task WHERE Subject = 'caf\u00e9'`, []string{"Id"}, "Task", []string{"café"}, -1},
		{"SELECT Id FROM Task WHERE Subject IN ('a', 'b','c') AND Status != 'x'", []string{"Id"}, "Task", []string{"a", "b", "c", "x"}, -1},
		{"SELECT Id FROM Task WHERE CallDurationInSeconds = -5 ORDER BY CreatedDate DESC LIMIT 0", []string{"Id"}, "Task", []string{"-5"}, 0},
		{"SELECT Id FROM Task WHERE ActivityDate = 2026-01-15", []string{"Id"}, "Task", []string{"2026-01-15"}, -1},
		{"SELECT Id FROM Task WHERE WhoId = null", []string{"Id"}, "Task", []string{"null"}, -1},
		{"SELECT Id FROM Task WHERE Subject = '—😀'", []string{"Id"}, "Task", []string{"—😀"}, -1},
		{"SELECT Id FROM Task WHERE Subject = 'x' OR Subject = 'y' or Subject = 'z'", []string{"Id"}, "Task", []string{"x", "y", "z"}, -1},
		{"SELECT Id FROM Task WHERE (Subject = 'x' AND Status = 'y') OR Subject = 'z'", []string{"Id"}, "Task", []string{"x", "y", "z"}, -1},
		{"SELECT Id FROM Task WHERE Subject = 'x' AND (Status IN ('y') OR (Subject NOT IN ('z')))", []string{"Id"}, "Task", []string{"x", "y", "z"}, -1},
		{"SELECT Id FROM Task WHERE ((Subject = 'x'))", []string{"Id"}, "Task", []string{"x"}, -1},
		{"SELECT Id FROM Task WHERE CallDurationInSeconds >= 1 AND CallDurationInSeconds<2 AND CallDurationInSeconds <= 3 AND CallDurationInSeconds>4 AND Subject <> 'x'",
			[]string{"Id"}, "Task", []string{"1", "2", "3", "4", "x"}, -1},
		{"SELECT Id FROM Task WHERE IsClosed = FALSE ORDER BY LastModifiedDate DESC NULLS FIRST, Id LIMIT 5", []string{"Id"}, "Task", []string{"false"}, 5},
		{"SELECT Id FROM Task WHERE CreatedDate > 2026-01-15T10:00:00+09:00", []string{"Id"}, "Task", []string{"2026-01-15T10:00:00+09:00"}, -1},
		{"SELECT Id FROM Task WHERE Subject IN ('" + strings.Repeat("x", 99_900) + "')", []string{"Id"}, "Task", []string{strings.Repeat("x", 99_900)}, -1},
	}
	for _, tt := range tests {
		sq, err := parseSOQL(tt.q)
		if err != nil {
			t.Errorf("parseSOQL(%.200q): %s %s", tt.q, err.code, err.msg)
			continue
		}
		var values []string
		for _, c := range sq.where.conditions() {
			for _, v := range c.values {
				values = append(values, v.text)
			}
		}
		if !slices.Equal(sq.fields, tt.wantFields) || sq.object != tt.wantObject || !slices.Equal(values, tt.wantValues) || sq.limit != tt.wantLimit {
			t.Errorf("parseSOQL(%.200q) = %v %s %.200q %d", tt.q, sq.fields, sq.object, values, sq.limit)
		}
	}

	for _, q := range []string{
		"",
		"SELECT",
		"SELECT Id",
		"SELECT Id FROM",
		"SELECT FROM Task",
		"SELECT Id, FROM Task",
		"DELETE FROM Task",
		"SELECT Id FROM Task WHERE",
		"SELECT Id FROM Task WHERE Subject",
		"SELECT Id FROM Task WHERE Subject = ",
		"SELECT Id FROM Task WHERE Subject = 'x' AND Subject = 'y' OR Subject = 'z'",
		"SELECT Id FROM Task WHERE Subject = 'x' OR Subject = 'y' AND Subject = 'z'",
		"SELECT Id FROM Task WHERE (Subject = 'x' OR Subject = 'y' AND Subject = 'z')",
		"SELECT Id FROM Task WHERE (Subject = 'x'",
		"SELECT Id FROM Task WHERE Subject = 'x')",
		"SELECT Id FROM Task WHERE ()",
		"SELECT Id FROM Task WHERE Subject = 'x' AND",
		"SELECT Id FROM Task WHERE NOT Subject = 'x'",
		"SELECT Id FROM Task WHERE Subject NOT 'x'",
		"SELECT Id FROM Task WHERE Subject ! 'x'",
		"SELECT Id FROM Task ORDER BY",
		"SELECT Id FROM Task ORDER BY Subject,",
		"SELECT Id FROM Task ORDER BY Subject NULLS",
		"SELECT Id FROM Task ORDER BY Subject DESC ASC",
		"SELECT Id FROM Task WHERE Subject IN ('" + strings.Repeat("x", 100_000) + "')",
		"SELECT Id FROM Task WHERE Subject LIKE 'x%'",
		"SELECT Id FROM Task WHERE Subject IN 'x'",
		"SELECT Id FROM Task WHERE Subject IN ('x'",
		"SELECT Id FROM Task WHERE Subject IN ('x' 'y')",
		"SELECT Id FROM Task WHERE Subject = 'unterminated",
		`SELECT Id FROM Task WHERE Subject = 'bad \q'`,
		`SELECT Id FROM Task WHERE Subject = 'bad \u12'`,
		`SELECT Id FROM Task WHERE Subject = 'x\`,
		"SELECT Id FROM Task LIMIT x",
		"SELECT Id FROM Task LIMIT -1",
		"SELECT Id FROM Task; DELETE FROM Task",
		"SELECT Id FROM Task WHERE Subject = \"x\"",
		"SELECT COUNT() FROM Task",
	} {
		if _, err := parseSOQL(q); err == nil || err.code != "MALFORMED_QUERY" {
			t.Errorf("parseSOQL(%.200q) = %v, want MALFORMED_QUERY", q, err)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{"": 0, "abc": 3, "é": 1, "—": 1, "😀": 2, "a😀b": 4, "日本": 2} {
		if got := utf16Len(s); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}
