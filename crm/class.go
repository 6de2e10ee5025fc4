// Package crm holds what the CRM clients share: [Class], what a caller
// should do about an error a CRM returned; the text ([ErrorText]) and log
// attributes ([ErrorAttrs]) their API errors have in common; and the small
// pieces of plumbing that are the same for both: [NewJSONRequest], and
// [Secret], the type of their credentials, which shows only [Redacted].
//
// [salesforce.Classify] and [kintone.Classify] each sort their own errors
// into these four classes, and the push jobs decide by them alone, whichever
// CRM they push to. The type lives in a package of its own, rather than in
// one of the clients, so that neither client imports the other and a third
// CRM can use it as they do.
//
// [salesforce.Classify]: https://pkg.go.dev/github.com/koeiq/syncd/salesforce#Classify
// [kintone.Classify]: https://pkg.go.dev/github.com/koeiq/syncd/kintone#Classify
package crm

import "fmt"

// Class tells a caller what to do about an error a CRM client returned. The
// zero Class is no error.
type Class int

const (
	// ClassRetryable: try again later with backoff. Network errors,
	// timeouts, 5xx, lock contention, an answer that could not be read.
	ClassRetryable Class = iota + 1

	// ClassRateLimited: the org's or app's request limit is spent. Pause all
	// of the tenant's work for a while instead of spending attempts.
	ClassRateLimited

	// ClassAuth: the tenant's integration needs an administrator: the
	// credentials are refused or lack permission, or the address is not the
	// CRM's. Every call of the tenant fails the same way until the settings
	// change.
	ClassAuth

	// ClassData: the CRM will never accept this record as sent. Fail it with
	// the CRM's message; retrying the same data fails the same way.
	ClassData
)

// String returns "retryable", "rate_limited", "auth" or "data", "none" for
// the zero Class and "Class(N)" for any other value.
func (c Class) String() string {
	switch c {
	case 0:
		return "none"
	case ClassRetryable:
		return "retryable"
	case ClassRateLimited:
		return "rate_limited"
	case ClassAuth:
		return "auth"
	case ClassData:
		return "data"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}
