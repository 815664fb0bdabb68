package pgtest_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
)

// A test's own cluster keeps what was committed through an immediate stop (a crash) and a fast
// one, on the same port, and is not the shared server.
func TestClusterRestarts(t *testing.T) {
	c := pgtest.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if c.Port() == 5432 {
		t.Fatal("the test cluster took the shared server's port")
	}
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var port string
	if err := admin.QueryRow(ctx, "SHOW port").Scan(&port); err != nil {
		t.Fatal(err)
	}
	if port != strconv.Itoa(c.Port()) {
		t.Fatalf("connected to a server on port %s, want the cluster's %d", port, c.Port())
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE kept"); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)

	db, err := pgx.Connect(ctx, c.URL("kept"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	c.Restart("immediate")
	if !c.Running() {
		t.Fatal("Running says stopped after Restart")
	}
	// The connection made before the crash is gone; a new one finds the row.
	if _, err := db.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("a connection survived an immediate stop")
	}
	db, err = pgx.Connect(ctx, c.URL("kept"))
	if err != nil {
		t.Fatalf("connect after the immediate restart: %v", err)
	}
	if _, err := db.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	db.Close(ctx)

	c.Stop("fast")
	if c.Running() {
		t.Fatal("Running says running after Stop")
	}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	if _, err := pgx.Connect(short, c.URL("kept")); err == nil {
		t.Fatal("connected to a stopped cluster")
	}
	cancelShort()
	c.Start()
	db, err = pgx.Connect(ctx, c.URL("kept"))
	if err != nil {
		t.Fatalf("connect after the fast restart: %v", err)
	}
	defer db.Close(ctx)
	var sum int
	if err := db.QueryRow(ctx, "SELECT sum(n) FROM t").Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 3 {
		t.Fatalf("sum %d after the restarts, want 3: a committed row was lost", sum)
	}
}

// A wrong binaries directory is told as such, naming the variable and what is missing, rather
// than some other directory silently used.
func TestFindBinariesInAnEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(pgtest.PGBinEnv, dir)
	_, err := pgtest.FindBinaries()
	if err == nil {
		t.Fatalf("found PostgreSQL's binaries in the empty %s", dir)
	}
	for _, want := range []string{pgtest.PGBinEnv, dir, "initdb"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not name %s", err, want)
		}
	}
}
