package privacy

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/erasure"
)

// Defaults of KeysConfig.
const (
	// DefaultKeyTTL is how long an unwrapped data key stays in memory before the table is
	// read again: the longest another server may still open a customer's fields after this
	// one erased them.
	DefaultKeyTTL = 30 * time.Second
	// DefaultCachedKeys bounds the unwrapped data keys (and the requests' key bindings) kept.
	DefaultCachedKeys = 10_000
)

// KeysConfig configures Keys.
type KeysConfig struct {
	// Pool is the database holding customer_keys and request_keys (migration 019). Required.
	Pool *pgxpool.Pool
	// Master wraps the data keys. Required.
	Master MasterKey
	// TTL is how long an unwrapped key is used before the table is read again; DefaultKeyTTL
	// when zero.
	TTL time.Duration
	// MaxCached bounds the keys and request bindings kept in memory; DefaultCachedKeys when
	// zero.
	MaxCached int
	// Now is the clock of the cache; time.Now when nil.
	Now func() time.Time
}

// Validate reports a missing or wrong setting.
func (c KeysConfig) Validate() error {
	if c.Pool == nil {
		return errors.New("privacy: a database pool is required")
	}
	if len(c.Master.key) != KeySize {
		return errors.New("privacy: a master key is required")
	}
	if c.TTL < 0 || c.MaxCached < 0 {
		return errors.New("privacy: the key cache's TTL and size must not be negative")
	}
	return nil
}

// Keys keeps the customers' data keys in PostgreSQL, wrapped by the master key, and a bounded
// cache of unwrapped ones. Erasing on this server evicts at once; other servers stop using an
// erased key when its cached copy expires (TTL), because every miss reads the table again.
type Keys struct {
	pool   *pgxpool.Pool
	master cipher.AEAD
	macKey []byte
	ttl    time.Duration
	max    int
	now    func() time.Time

	mu       sync.Mutex
	keys     map[uuid.UUID]cachedKey // key id → unwrapped key, or destroyed
	requests map[uuid.UUID]uuid.UUID // request id → key id (never changes once bound)
}

type cachedKey struct {
	aead      cipher.AEAD // nil once destroyed
	fetchedAt time.Time
}

// NewKeys returns the key store of cfg.
func NewKeys(cfg KeysConfig) (*Keys, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultKeyTTL
	}
	if cfg.MaxCached == 0 {
		cfg.MaxCached = DefaultCachedKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	master, err := aead(cfg.Master.key)
	if err != nil {
		return nil, err
	}
	// The MAC key is derived from the master key so that the two uses never share a key.
	mac := hmac.New(sha256.New, cfg.Master.key)
	mac.Write([]byte("helpstream customer e-mail mac v1"))
	return &Keys{pool: cfg.Pool, master: master, macKey: mac.Sum(nil), ttl: cfg.TTL, max: cfg.MaxCached, now: cfg.Now,
		keys: map[uuid.UUID]cachedKey{}, requests: map[uuid.UUID]uuid.UUID{}}, nil
}

// emailMAC is the lookup value of a customer's address: HMAC-SHA256 of its normalized form.
func (k *Keys) emailMAC(email string) ([]byte, error) {
	normal, err := directory.NormalizeEmail(email)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	mac := hmac.New(sha256.New, k.macKey)
	mac.Write([]byte(normal))
	return mac.Sum(nil), nil
}

// customerKey returns the live key of the customer with email, creating it on first use.
func (k *Keys) customerKey(ctx context.Context, email string) (uuid.UUID, cipher.AEAD, error) {
	mac, err := k.emailMAC(email)
	if err != nil {
		return uuid.Nil, nil, err
	}
	for range 2 {
		var id uuid.UUID
		var wrapped []byte
		err := k.pool.QueryRow(ctx, `SELECT key_id, wrapped FROM customer_keys WHERE email_mac = $1`, mac).Scan(&id, &wrapped)
		if err == nil {
			a, err := k.unwrap(id, wrapped)
			if err != nil {
				return uuid.Nil, nil, err
			}
			k.remember(id, a)
			return id, a, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, nil, fmt.Errorf("privacy: read a customer's key: %w", err)
		}
		dataKey := make([]byte, KeySize)
		if _, err := rand.Read(dataKey); err != nil {
			return uuid.Nil, nil, fmt.Errorf("privacy: new data key: %w", err)
		}
		id = uuid.New()
		wrapped, err = seal(k.master, dataKey, id[:])
		if err != nil {
			return uuid.Nil, nil, err
		}
		// Two servers creating the same customer's key at once: one row wins, both use it.
		if _, err := k.pool.Exec(ctx, `INSERT INTO customer_keys (key_id, email_mac, wrapped) VALUES ($1, $2, $3)
			ON CONFLICT (email_mac) DO NOTHING`, id, mac, wrapped); err != nil {
			return uuid.Nil, nil, fmt.Errorf("privacy: store a customer's key: %w", err)
		}
	}
	return uuid.Nil, nil, errors.New("privacy: a customer's key could not be created")
}

// unwrap opens a wrapped data key; nil wrapped is a destroyed key (nil AEAD).
func (k *Keys) unwrap(id uuid.UUID, wrapped []byte) (cipher.AEAD, error) {
	if wrapped == nil {
		return nil, nil
	}
	dataKey, err := open(k.master, wrapped, id[:])
	if err != nil {
		return nil, fmt.Errorf("privacy: key %s does not open under the master key: %w", id, err)
	}
	return aead(dataKey)
}

func (k *Keys) remember(id uuid.UUID, a cipher.AEAD) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.keys) >= k.max {
		clear(k.keys) // rare: a cold cache costs one read per key
	}
	k.keys[id] = cachedKey{aead: a, fetchedAt: k.now()}
}

// key returns key id's AEAD, nil when the key was destroyed.
// errNoKey says that no key, live or destroyed, has the ID: what names it was not sealed here.
var errNoKey = errors.New("no such key")

func (k *Keys) key(ctx context.Context, id uuid.UUID) (cipher.AEAD, error) {
	k.mu.Lock()
	c, ok := k.keys[id]
	k.mu.Unlock()
	if ok && k.now().Sub(c.fetchedAt) < k.ttl {
		return c.aead, nil
	}
	var wrapped []byte
	err := k.pool.QueryRow(ctx, `SELECT wrapped FROM customer_keys WHERE key_id = $1`, id).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("privacy: key %s: %w", id, errNoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("privacy: read key %s: %w", id, err)
	}
	a, err := k.unwrap(id, wrapped)
	if err != nil {
		return nil, err
	}
	k.remember(id, a)
	return a, nil
}

// bindRequest records that request's personal fields are sealed under key id.
func (k *Keys) bindRequest(ctx context.Context, request, id uuid.UUID) error {
	if _, err := k.pool.Exec(ctx, `INSERT INTO request_keys (request_id, key_id) VALUES ($1, $2)
		ON CONFLICT (request_id) DO NOTHING`, request, id); err != nil {
		return fmt.Errorf("privacy: bind request %s to its customer's key: %w", request, err)
	}
	k.rememberRequest(request, id)
	return nil
}

func (k *Keys) rememberRequest(request, id uuid.UUID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.requests) >= k.max {
		clear(k.requests)
	}
	k.requests[request] = id
}

// requestKey returns the key id bound to request, and false for a request submitted before
// encryption was configured (its fields stay as they were written).
func (k *Keys) requestKey(ctx context.Context, request uuid.UUID) (uuid.UUID, bool, error) {
	k.mu.Lock()
	id, ok := k.requests[request]
	k.mu.Unlock()
	if ok {
		return id, true, nil
	}
	err := k.pool.QueryRow(ctx, `SELECT key_id FROM request_keys WHERE request_id = $1`, request).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("privacy: read request %s's key: %w", request, err)
	}
	k.rememberRequest(request, id)
	return id, true, nil
}

// ErrNoSuchCustomer is returned by Destroy when no live key belongs to the address.
var ErrNoSuchCustomer = erasure.ErrUnknownCustomer

// Destroyed is what Destroy did: the key that is gone and the requests sealed under it.
type Destroyed struct {
	KeyID    uuid.UUID
	Requests []uuid.UUID
}

// Destroy erases the key of the customer with email for erasure: the wrapped key and the
// address's MAC are deleted, so every field sealed under it reads as Erased from now on, here
// at once and on other servers within the TTL.
func (k *Keys) Destroy(ctx context.Context, email string, erasure uuid.UUID) (Destroyed, error) {
	mac, err := k.emailMAC(email)
	if err != nil {
		return Destroyed{}, err
	}
	var d Destroyed
	err = pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE customer_keys SET wrapped = NULL, email_mac = NULL, erased_at = now(), erasure_id = $2
			WHERE email_mac = $1 RETURNING key_id`, mac, erasure).Scan(&d.KeyID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoSuchCustomer
		}
		if err != nil {
			return fmt.Errorf("privacy: destroy the key: %w", err)
		}
		d.Requests, err = requestsOf(ctx, tx, d.KeyID)
		return err
	})
	if err != nil {
		return Destroyed{}, err
	}
	k.mu.Lock()
	k.keys[d.KeyID] = cachedKey{fetchedAt: k.now()}
	k.mu.Unlock()
	return d, nil
}

// CustomerRequests returns the key id and requests of the customer with email, without
// changing anything (ErrNoSuchCustomer when none).
func (k *Keys) CustomerRequests(ctx context.Context, email string) (Destroyed, error) {
	mac, err := k.emailMAC(email)
	if err != nil {
		return Destroyed{}, err
	}
	var d Destroyed
	err = k.pool.QueryRow(ctx, `SELECT key_id FROM customer_keys WHERE email_mac = $1`, mac).Scan(&d.KeyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Destroyed{}, ErrNoSuchCustomer
	}
	if err != nil {
		return Destroyed{}, fmt.Errorf("privacy: read a customer's key: %w", err)
	}
	if d.Requests, err = requestsOf(ctx, k.pool, d.KeyID); err != nil {
		return Destroyed{}, err
	}
	return d, nil
}

// DestroyKey erases key id for erasure, as Destroy does for an address: the retention
// manager's way, which knows customers by their key. It reports whether this erasure holds the
// key now: true when it destroyed it, or had destroyed it before (a retried erasure goes on
// with the rest of its work); false when the key was destroyed by another erasure.
func (k *Keys) DestroyKey(ctx context.Context, id, erasure uuid.UUID) (Destroyed, bool, error) {
	d := Destroyed{KeyID: id}
	ours := false
	err := pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		var by *uuid.UUID
		err := tx.QueryRow(ctx, `SELECT erasure_id FROM customer_keys WHERE key_id = $1 FOR UPDATE`, id).Scan(&by)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("privacy: no key %s", id)
		}
		if err != nil {
			return fmt.Errorf("privacy: read key %s: %w", id, err)
		}
		switch {
		case by == nil:
			if _, err := tx.Exec(ctx, `UPDATE customer_keys SET wrapped = NULL, email_mac = NULL, erased_at = now(), erasure_id = $2
				WHERE key_id = $1`, id, erasure); err != nil {
				return fmt.Errorf("privacy: destroy key %s: %w", id, err)
			}
		case *by != erasure:
			return nil
		}
		ours = true
		d.Requests, err = requestsOf(ctx, tx, id)
		return err
	})
	if err != nil {
		return Destroyed{}, false, err
	}
	k.mu.Lock()
	k.keys[id] = cachedKey{fetchedAt: k.now()}
	k.mu.Unlock()
	return d, ours, nil
}

// requestsOf lists the requests sealed under key id.
func requestsOf(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, id uuid.UUID) ([]uuid.UUID, error) {
	rows, err := q.Query(ctx, `SELECT request_id FROM request_keys WHERE key_id = $1 ORDER BY request_id`, id)
	if err != nil {
		return nil, fmt.Errorf("privacy: list the requests of key %s: %w", id, err)
	}
	requests, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("privacy: list the requests of key %s: %w", id, err)
	}
	return requests, nil
}
