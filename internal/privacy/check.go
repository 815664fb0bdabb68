package privacy

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ErrMasterKeyRequired refuses to open, without a master key, a database whose log holds
// sealed fields: readers would show the envelopes, rebuilt read models would keep them and new
// submissions would be written in the clear next to sealed ones.
var ErrMasterKeyRequired = errors.New("privacy: this database's log holds sealed personal fields: give its master key (--master-key-file FILE or HELPSTREAM_MASTER_KEY)")

// ErrWrongMasterKey refuses a master key that does not open the data keys already in the
// database (another deployment's key, or a new one made after a restore).
var ErrWrongMasterKey = errors.New("privacy: the master key does not open this database's data keys: give the key this database was written with")

// Open returns store as the service reads it, and the keys, after checking that master (the
// text ParseMasterKey reads; "" for none) fits the database: without a master key, store is
// returned as it is, unless the database holds data keys (ErrMasterKeyRequired); with one,
// store is read through Reader, and a live data key of the database must open under it
// (ErrWrongMasterKey).
func Open(ctx context.Context, pool *pgxpool.Pool, store eventlog.Store, master string) (eventlog.Store, *Keys, error) {
	if master == "" {
		var sealed bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customer_keys)`).Scan(&sealed); err != nil {
			return nil, nil, fmt.Errorf("privacy: look for data keys: %w", err)
		}
		if sealed {
			return nil, nil, ErrMasterKeyRequired
		}
		return store, nil, nil
	}
	key, err := ParseMasterKey(master)
	if err != nil {
		return nil, nil, err
	}
	keys, err := NewKeys(KeysConfig{Pool: pool, Master: key})
	if err != nil {
		return nil, nil, err
	}
	var id uuid.UUID
	var wrapped []byte
	err = pool.QueryRow(ctx, `SELECT key_id, wrapped FROM customer_keys WHERE wrapped IS NOT NULL LIMIT 1`).Scan(&id, &wrapped)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return nil, nil, fmt.Errorf("privacy: read a data key: %w", err)
	default:
		if _, err := keys.unwrap(id, wrapped); err != nil {
			return nil, nil, fmt.Errorf("%w (key %s)", ErrWrongMasterKey, id)
		}
	}
	return Reader(store, keys), keys, nil
}
