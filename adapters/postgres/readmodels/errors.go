// Package readmodels answers the application's queries (internal/app's read-model ports) from
// the tables the projections build: the request list, the request details and the directory.
// The projections own the tables and write them; this package only reads them.
package readmodels

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/internal/app"
)

// notReady turns "the table does not exist" (the projection runner has not created the read
// model yet) into app.ErrReadModelNotReady; other errors pass through.
func notReady(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return fmt.Errorf("%w: %w", app.ErrReadModelNotReady, err)
	}
	return err
}
