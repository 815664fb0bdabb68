// Package httpservertest holds what tests of the HTTP front ends share: a server's error log
// they can read while the server writes it, and a clock they move by hand.
package httpservertest

import (
	"bytes"
	"sync"
)

// ErrorLog is a server's error log (http.Server.ErrorLog's writer) that a test reads, and
// empties, while the server's goroutines write to it. Any log written from many goroutines
// (an slog handler's writer) can be read through it the same way.
type ErrorLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *ErrorLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is what was written since the last Reset.
func (l *ErrorLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Reset empties the log.
func (l *ErrorLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}
