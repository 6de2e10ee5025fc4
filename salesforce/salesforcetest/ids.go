package salesforcetest

import "strings"

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// makeID returns an 18-character record ID: the 3-character key prefix, a
// 2-character pod, a reserved "0", 9 base-62 digits of n, and the
// case-safe checksum.
func makeID(prefix, pod string, n uint64) string {
	var digits [9]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = base62[n%62]
		n /= 62
	}
	id15 := prefix + pod + "0" + string(digits[:])
	return id15 + checksum(id15)
}

// checksum returns the 3-character suffix that turns a case-sensitive
// 15-character ID into an 18-character one: for each 5-character chunk, a
// bit per upper-case letter, as an index into A-Z0-5.
func checksum(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var out [3]byte
	for chunk := range 3 {
		bits := 0
		for i := range 5 {
			if c := id15[chunk*5+i]; 'A' <= c && c <= 'Z' {
				bits |= 1 << i
			}
		}
		out[chunk] = alphabet[bits]
	}
	return string(out[:])
}

// canonicalID returns the 18-character form of a 15- or 18-character ID, or
// false when id is not one. As in Salesforce, an 18-character ID is read
// case-insensitively: its suffix restores the case of the first 15
// characters.
func canonicalID(id string) (string, bool) {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "", false
		}
	}
	switch len(id) {
	case 15:
		return id + checksum(id), true
	case 18:
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
		b := []byte(id[:15])
		for chunk := range 3 {
			bits := strings.IndexByte(alphabet, upper(id[15+chunk]))
			if bits < 0 {
				return "", false
			}
			for i := range 5 {
				c := b[chunk*5+i]
				if bits&(1<<i) != 0 {
					if 'a' <= c && c <= 'z' {
						b[chunk*5+i] = c - 'a' + 'A'
					}
				} else if 'A' <= c && c <= 'Z' {
					b[chunk*5+i] = c - 'A' + 'a'
				}
			}
		}
		id15 := string(b)
		// A letter marked upper-case must be a letter; a digit cannot carry
		// the bit.
		if checksum(id15) != strings.ToUpper(id[15:]) {
			return "", false
		}
		return id15 + checksum(id15), true
	}
	return "", false
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
