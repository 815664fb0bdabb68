// Package process is what Helpstream's process managers share: the consumers of the one
// subscriber runtime (internal/subscriber) that decide on what the log says (auto-assignment,
// reassignment, service levels, retention) and act through the application's commands, so that
// every automatic decision is an event with its reason, replayed and audited like any other.
//
// A manager keeps the state it decides on in tables of its own, updated by its Apply in the
// transaction of each batch. It decides in the runtime's Tick (once it has caught up with the
// log, never on the past), in a transaction that holds its checkpoint row, so decisions are
// serialised even across two servers that both believe they lead. A decision is a row of its
// Outbox, written in that transaction; a timer it sets is a row of its Timers, written likewise.
// After the commit the runtime calls the manager's Flush, which executes the outbox's commands
// with each command's ID as its idempotency key and deletes the rows: a crash between the
// decision and the append leaves the row, which the next leader's first Flush executes, and a
// command executed twice writes its events once.
package process

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// Kind is the managers' kind for the subscriber runtime: their log lines carry process=<name>.
const Kind = "process"

// Checkpoints is the table of the managers' checkpoints (migration 016).
var Checkpoints = subscriber.NewCheckpoints("public", "process_checkpoints", "events_applied")

// LeaderLockKey is the key of the PostgreSQL session advisory lock that elects a manager's
// leader: the first 8 bytes of SHA-256("helpstream.process."+name).
func LeaderLockKey(name string) int64 {
	sum := sha256.Sum256([]byte("helpstream.process." + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// Config configures the runtime of the process managers.
type Config struct {
	// Pool is the database of the managers' checkpoints, timers, outboxes and state. Required.
	Pool *pgxpool.Pool
	// Store is the event log the managers follow. Required.
	Store eventlog.Store
	// Managers are the process managers, each a subscriber.Consumer, most of them Tickers and
	// Flushers. Names must be unique.
	Managers []subscriber.Consumer
	// Pacing is the runtime's batch size, retries and logger; defaults as subscriber.Pacing's.
	subscriber.Pacing
	// Observer, when set, hears of leadership, commits and failures, for metrics.
	Observer subscriber.Observer
}

// NewRuntime returns the runtime that keeps cfg's managers: one leader per manager across every
// server on the database. A manager without a checkpoint starts from the start of the log, so
// its state is the whole log's; it takes no decision before it has caught up.
func NewRuntime(cfg Config) (*subscriber.Runtime, error) {
	if cfg.Pool == nil || cfg.Store == nil {
		return nil, errors.New("process managers: Pool and Store are required")
	}
	rt, err := subscriber.New(subscriber.Config{
		Pool: cfg.Pool, Store: cfg.Store, Kind: Kind, Consumers: cfg.Managers,
		Checkpoints: Checkpoints, LeaderLockKey: LeaderLockKey,
		Pacing: cfg.Pacing, Observer: cfg.Observer,
	})
	if err != nil {
		return nil, fmt.Errorf("process managers: %w", err)
	}
	return rt, nil
}
