package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Outbox is one manager's decided commands not yet acted on (table process_outbox). A manager
// adds a command in the transaction that decided it; its Flush reads them in decision order,
// executes each with the command's ID as the idempotency key, and marks it Done.
type Outbox struct {
	// Owner is the manager's name; every row of this outbox carries it.
	Owner string
}

// Command is one decision waiting to be acted on.
type Command struct {
	// ID identifies the decision: derived from what was decided (the request, the target, the
	// attempt), so that a batch applied again adds nothing, and used as the command's
	// idempotency key, so that executing it again writes nothing twice.
	ID        uuid.UUID
	Kind      string
	Payload   json.RawMessage
	DecidedAt time.Time
}

// ErrNoCommandKind is returned by Add for a command without a kind.
var ErrNoCommandKind = errors.New("an outbox command needs a kind")

// Add records a decided command in tx. A command whose ID is recorded already is left as it is.
func (o Outbox) Add(ctx context.Context, tx pgx.Tx, id uuid.UUID, kind string, payload any) error {
	if kind == "" {
		return ErrNoCommandKind
	}
	data, err := marshalPayload(payload)
	if err != nil {
		return fmt.Errorf("outbox %s: command %s: %w", o.Owner, kind, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO process_outbox (owner, id, kind, payload) VALUES ($1, $2, $3, $4)
		ON CONFLICT (owner, id) DO NOTHING`, o.Owner, id, kind, data); err != nil {
		return fmt.Errorf("outbox %s: add command %s: %w", o.Owner, kind, err)
	}
	return nil
}

// Pending returns up to limit commands not yet done, in the order they were decided.
func (o Outbox) Pending(ctx context.Context, q Querier, limit int) ([]Command, error) {
	rows, err := q.Query(ctx, `SELECT id, kind, payload, decided_at FROM process_outbox
		WHERE owner = $1 ORDER BY seq LIMIT $2`, o.Owner, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox %s: read pending commands: %w", o.Owner, err)
	}
	commands, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Command, error) {
		var c Command
		err := row.Scan(&c.ID, &c.Kind, &c.Payload, &c.DecidedAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox %s: read pending commands: %w", o.Owner, err)
	}
	return commands, nil
}

// Done removes an executed (or refused) command; a command removed already is no error.
func (o Outbox) Done(ctx context.Context, q Querier, id uuid.UUID) error {
	if _, err := q.Exec(ctx, `DELETE FROM process_outbox WHERE owner = $1 AND id = $2`, o.Owner, id); err != nil {
		return fmt.Errorf("outbox %s: mark command %s done: %w", o.Owner, id, err)
	}
	return nil
}

// Execute is the usual Flush: it executes the pending commands in decision order with run and
// marks each done when run returns nil, stopping at the first failure (the command and those
// after it stay for the next Flush, so decision order holds). A refusal because the state moved
// on is run's to answer with nil. It returns how many commands it executed.
func (o Outbox) Execute(ctx context.Context, q Querier, run func(context.Context, Command) error) (int, error) {
	const page = 100
	done := 0
	for {
		pending, err := o.Pending(ctx, q, page)
		if err != nil {
			return done, err
		}
		for _, c := range pending {
			if err := run(ctx, c); err != nil {
				return done, fmt.Errorf("outbox %s: execute %s %s: %w", o.Owner, c.Kind, c.ID, err)
			}
			if err := o.Done(ctx, q, c.ID); err != nil {
				return done, err
			}
			done++
		}
		if len(pending) < page {
			return done, nil
		}
	}
}

// CommandID derives a command's ID from what was decided: the manager, then parts that name the
// decision ("assign", request ID, attempt). The same parts give the same ID in every process.
func (o Outbox) CommandID(parts ...string) uuid.UUID {
	name := o.Owner
	for _, p := range parts {
		name += "\x00" + p
	}
	return uuid.NewSHA1(outboxNamespace, []byte(name))
}

// outboxNamespace is the name-space of CommandID's name-based UUIDs.
var outboxNamespace = uuid.MustParse("5b0e3c1e-8f0a-4d8e-9a51-6f2d0c7b9e41")
