package main

import (
	"context"
	"fmt"
	"io"

	"github.com/helpstream/helpstream/adapters/postgres/schema"
	"github.com/helpstream/helpstream/internal/service"
)

func init() {
	const summary = "create the database if needed and apply the schema's migrations"
	register(command{name: "migrate", summary: summary, run: func(ctx context.Context, args []string, out io.Writer) error {
		fs := newFlagSet("migrate", summary, out)
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
		fmt.Fprintf(out, "applied %d migration(s); schema is at migration %d (%s)\n", applied, list[len(list)-1].Version, list[len(list)-1].Name)
		return nil
	}})
}
