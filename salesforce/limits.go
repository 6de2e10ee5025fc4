package salesforce

import (
	"strconv"
	"strings"
	"time"
)

// Usage is an org's use of its daily API request allocation, as reported by
// the Sforce-Limit-Info header ("api-usage=USED/MAX"). The allocation is per
// org over a rolling 24 hours and is shared with every other integration of
// that org.
type Usage struct {
	// Used is the number of API requests made in the last 24 hours.
	Used int `json:"used"`
	// Max is the org's allocation.
	Max int `json:"max"`
	// At is when the response carrying the header arrived. It is zero in a
	// Usage returned by [ParseLimitInfo].
	At time.Time `json:"at,omitzero"`
}

// Remaining returns Max - Used, or 0 when the allocation is spent (paid orgs
// may briefly go over it).
func (u Usage) Remaining() int {
	return max(u.Max-u.Used, 0)
}

// ParseLimitInfo parses the api-usage part of a Sforce-Limit-Info header such
// as "api-usage=10018/100000; api-bursts=1/750". It ignores other parts and
// reports false when there is no well-formed api-usage part.
func ParseLimitInfo(header string) (Usage, bool) {
	for part := range strings.SplitSeq(header, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "api-usage") {
			continue
		}
		usedStr, maxStr, ok := strings.Cut(strings.TrimSpace(value), "/")
		if !ok {
			return Usage{}, false
		}
		used, err1 := strconv.Atoi(usedStr)
		limit, err2 := strconv.Atoi(maxStr)
		if err1 != nil || err2 != nil || used < 0 || limit <= 0 {
			return Usage{}, false
		}
		return Usage{Used: used, Max: limit}, true
	}
	return Usage{}, false
}
