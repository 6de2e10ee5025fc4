package admin

import "time"

// EncodeCursor is the after parameter that starts the sync log after the
// row with this key, for tests and benchmarks that start deep in a log.
func EncodeCursor(at time.Time, callID, target string) string {
	return cursor{At: at, CallID: callID, Target: target}.encode()
}
