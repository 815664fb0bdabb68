package main

import (
	"context"
	"fmt"
	"io"

	"github.com/helpstream/helpstream/adapters/postgres/schema"
	"github.com/helpstream/helpstream/internal/service"
)

func init() {
	register(command{"migrate", migrateSummary, runMigrate})
}

const migrateSummary = "create the database if needed and apply the schema's migrations"

func runMigrate(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("migrate", migrateSummary, out)
	dbURL := fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL (env DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, applied, err := service.OpenAndMigrate(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	list, err := schema.Migrations()
	if err != nil {
		return err
	}
	last := list[len(list)-1]
	fmt.Fprintf(out, "applied %d migration(s); schema is at migration %d (%s)\n", applied, last.Version, last.Name)
	return nil
}
