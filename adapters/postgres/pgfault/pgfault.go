// Package pgfault tells what a PostgreSQL error means for the caller: an outage worth retrying
// (the server restarting, connections refused, lost or exhausted, a serialization failure),
// or input the database cannot store. The HTTP front ends answer the first with 503 and
// Retry-After, and the second with 4xx, instead of a 500 that says "bug".
package pgfault

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Transient reports whether err is an outage of the database that a later attempt may not
// meet: the connection refused, lost or closed, the server shutting down or starting, too many
// clients, a serialization failure or deadlock, a lock or statement timeout.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return transientCode(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	if pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	// pgx reports a connection that died under a query as "conn closed" / "closed pool"
	// without a typed error; both mean the server went away.
	msg := err.Error()
	return containsAny(msg, "conn closed", "closed pool", "conn busy", "failed to connect", "unexpected EOF", "broken pipe", "connection reset")
}

func transientCode(code string) bool {
	switch {
	case len(code) == 5 && code[:2] == "08": // connection exception
		return true
	case len(code) == 5 && code[:2] == "53": // insufficient resources: too many connections, out of memory, disk full
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
		"40001", "40P01", // serialization failure, deadlock
		"55P03",          // lock not available (lock_timeout)
		"57014",          // query canceled (statement_timeout)
		"58000", "58030": // system and I/O errors
		return true
	}
	return false
}

// BadText reports whether PostgreSQL refused err's statement for text it cannot store: NUL or
// bytes that are not UTF-8 (SQLSTATE 22021, 22P05, 22P02 on such input). The domain refuses
// such text before it gets here; this is the net under that rule.
func BadText(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "22021", "22P05": // character not in repertoire, untranslatable character
		return true
	}
	return false
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
