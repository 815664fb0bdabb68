package requestlist

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
