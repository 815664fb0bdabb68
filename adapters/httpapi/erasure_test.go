package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// POST /api/v1/admin/customers/erase: admins only; a bad body is 422, an unknown address 404;
// the erasure answers what it did, and the request then shows the customer as erased.
func TestEraseCustomerRoute(t *testing.T) {
	loadSpec(t)
	master, err := privacy.NewMasterKeyText()
	if err != nil {
		t.Fatal(err)
	}
	e := serve(t, servicetest.New(t, apiConfig, func(c *service.Config) { c.MasterKey = master }))
	company := e.createCompany(t, "Acme")
	portal := e.createPortal(t, company, "Acme support")
	tech := e.technician(t, "Alice Tech", company)
	id, customer := e.submit(t, portal, uaWindows)
	tech.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	tech.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)
	var up commandResult
	customer.upload(t, custPath(id, "files"), "lovelace-notes.txt", []byte("notes of Ada")).want(t, http.StatusCreated).decode(t, &up)
	tech.get(t, reqPath(id, "files", up.ID.String())).want(t, http.StatusOK)

	// The read models project the submission on their own time: wait for them.
	for deadline := time.Now().Add(15 * time.Second); len(columnsHolding(t, e.pool, "Ada Customer")) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("before the erasure the scan finds the customer's name nowhere")
		}
	}
	const route = "/api/v1/admin/customers/erase"
	e.anonymous().post(t, route, map[string]any{"email": "ada@example.com", "reason": "asked"}).wantErr(t, http.StatusUnauthorized, "unauthorized")
	tech.post(t, route, map[string]any{"email": "ada@example.com", "reason": "asked"}).wantErr(t, http.StatusUnauthorized, "unauthorized")
	e.admin().post(t, route, map[string]any{"email": "ada@example.com"}).wantErr(t, http.StatusUnprocessableEntity, "")
	e.admin().post(t, route, map[string]any{"email": "ada@example.com", "reason": "two\nlines"}).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	e.admin().post(t, route, map[string]any{"email": "ada@example.com", "reason": strings.Repeat("r", 1001)}).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	e.admin().post(t, route, map[string]any{"email": "not an address", "reason": "asked"}).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	e.admin().post(t, route, map[string]any{"email": "nobody@example.com", "reason": "asked"}).wantErr(t, http.StatusNotFound, "not_found")
	e.admin().post(t, route, map[string]any{"email": "ada@example.com", "reason": "asked", "extra": 1}).wantErr(t, http.StatusBadRequest, "")

	var x struct {
		ErasureID    uuid.UUID   `json:"erasure_id"`
		KeyID        uuid.UUID   `json:"key_id"`
		Requests     []uuid.UUID `json:"requests"`
		FilesDeleted int         `json:"files_deleted"`
		Rebuilt      []string    `json:"rebuilt"`
	}
	e.admin().post(t, route, map[string]any{"email": " ADA@example.com", "reason": "GDPR art. 17 request #12"}).want(t, http.StatusOK).decode(t, &x)
	if x.ErasureID == uuid.Nil || x.KeyID == uuid.Nil || len(x.Requests) != 1 || x.Requests[0] != id || len(x.Rebuilt) == 0 || x.FilesDeleted != 1 {
		t.Fatalf("erasure: %+v", x)
	}
	var d details
	tech.get(t, reqPath(id)).want(t, http.StatusOK).decode(t, &d)
	if d.Customer.Name != privacy.Erased || d.Customer.Email != privacy.Erased || d.Source.IP != privacy.Erased {
		t.Errorf("after the erasure the request shows %+v, ip %q", d.Customer, d.Source.IP)
	}
	tech.get(t, reqPath(id, "files", up.ID.String())).wantErr(t, http.StatusNotFound, "not_found")
	// What went through the API (idempotency records, sessions, read models) keeps nothing.
	for _, secret := range []string{"Ada Customer", "ada@example.com", "lovelace-notes", "notes of Ada"} {
		if found := columnsHolding(t, e.pool, secret); len(found) > 0 {
			t.Errorf("after the erasure %q is still in %v", secret, found)
		}
	}
	customer.get(t, custPath(id, "files", up.ID.String())).wantErr(t, http.StatusNotFound, "not_found")
	e.admin().post(t, route, map[string]any{"email": "ada@example.com", "reason": "again"}).wantErr(t, http.StatusNotFound, "not_found")

	// A server without a master key seals nothing and erases nothing.
	plain := newEnv(t)
	plain.admin().post(t, route, map[string]any{"email": "ada@example.com", "reason": "asked"}).wantErr(t, http.StatusConflict, "not_encrypted")
}

// columnsHolding returns the columns of every table whose text form holds s (any case).
func columnsHolding(t *testing.T, pool *pgxpool.Pool, s string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_schema, table_name, column_name FROM information_schema.columns
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea', 'ARRAY')`)
	if err != nil {
		t.Fatal(err)
	}
	var columns [][3]string
	for rows.Next() {
		var c [3]string
		if err := rows.Scan(&c[0], &c[1], &c[2]); err != nil {
			t.Fatal(err)
		}
		columns = append(columns, c)
	}
	if rows.Err() != nil || len(columns) < 20 {
		t.Fatalf("columns: %d, %v", len(columns), rows.Err())
	}
	var found []string
	for _, c := range columns {
		table, column := pgx.Identifier{c[0], c[1]}.Sanitize(), pgx.Identifier{c[2]}.Sanitize()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE strpos(lower(`+column+`::text), lower($1)) > 0
			OR strpos(lower(`+column+`::text), lower(encode(convert_to($1, 'UTF8'), 'hex'))) > 0`, s).Scan(&n); err != nil {
			t.Fatalf("scan %s.%s: %v", table, column, err)
		}
		if n > 0 {
			found = append(found, c[1]+"."+c[2])
		}
	}
	return found
}
