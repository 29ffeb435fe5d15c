package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err says the database cannot serve right now
// (it is down, restarting, out of connections, or the request ran out of
// time waiting for it), as opposed to a fault of the request or of the
// code. The web tier answers such errors 503 with Retry-After, and the job
// queue retries them.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case strings.HasPrefix(pgErr.Code, "57P"): // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		switch pgErr.Code {
		case "53300", // too_many_connections
			"57014", // query_canceled: statement_timeout
			"55P03", // lock_not_available: lock_timeout
			"25P03": // idle_in_transaction_session_timeout
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// A connection pgx has closed after a failure (the server ended it).
	return pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed")
}
