package outbox

import "strings"

// TestCallPrefix begins the call ID of every test call: a synthetic call
// that the admin page's "Send a test call" pushes through the outbox like
// an analysed call, to show an Admin that calls reach the CRM. Test calls
// are listed as such and left out of metrics and the sync log's summary.
// Pipelines must not give real calls IDs that begin with it.
const TestCallPrefix = "test-"

// IsTestCall reports whether callID names a test call.
func IsTestCall(callID string) bool { return strings.HasPrefix(callID, TestCallPrefix) }
