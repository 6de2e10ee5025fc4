// Package testsupport holds the small helpers that tests of several
// packages share. It is imported by tests only.
package testsupport

import (
	"bytes"
	"sync"
)

// SyncBuffer is a bytes.Buffer that a writer (a logger, a command's output)
// and a reader (the test) may use at once. Its zero value is ready to use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
