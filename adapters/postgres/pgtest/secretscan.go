package pgtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrSecretInLog is matched by ScanDatabase's error when an event holds a secret.
var ErrSecretInLog = errors.New("a secret is in the event log")

// SecretFinding names an event that holds a secret, and what kind of secret, never the secret
// itself: a test's output is no place for one either.
type SecretFinding struct {
	EventType string
	StreamID  string
	Version   int64
	// Where is "data" or "metadata".
	Where string
	// Secret says which secret: "technician_webhooks.url of technician <id>".
	Secret string
}

func (f SecretFinding) String() string {
	return fmt.Sprintf("%s %s@%d holds %s in its %s", f.EventType, f.StreamID, f.Version, f.Secret, f.Where)
}

// heldSecret is one secret the database keeps outside the log, and what it is.
type heldSecret struct {
	value string
	what  string
}

// ScanDatabase reads every event of the database at databaseURL (data and metadata) and looks
// in each for every secret the database keeps outside the log (design §6):
//   - technician_webhooks: each URL, the parts of it that carry a token (its password, its
//     query values, its long path segments) and each signing secret;
//   - technician_credentials: each password hash;
//   - sessions and customer_tokens: each token hash (hex and base64), and each token itself,
//     recognised by its hash: any 43-character base64url run of an event whose SHA-256 is a
//     stored token hash is a bearer token in the log.
//
// It looks in the bytes as stored and in every JSON string after unescaping. It returns what it
// found, with an error matching ErrSecretInLog, or nothing. A database that does not exist, or
// has no events table, holds no secret in its log.
func ScanDatabase(ctx context.Context, databaseURL string) ([]SecretFinding, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name: dropped already
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scan for secrets: connect: %w", err)
	}
	defer conn.Close(ctx)
	var hasEvents bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('public.events') IS NOT NULL`).Scan(&hasEvents); err != nil {
		return nil, fmt.Errorf("scan for secrets: %w", err)
	}
	if !hasEvents {
		return nil, nil
	}
	secrets, tokenHashes, err := heldSecrets(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("scan for secrets: %w", err)
	}
	if len(secrets) == 0 && len(tokenHashes) == 0 {
		return nil, nil
	}
	rows, err := conn.Query(ctx, `SELECT event_type, stream_id, stream_version, data::text, metadata::text FROM events ORDER BY global_position`)
	if err != nil {
		return nil, fmt.Errorf("scan for secrets: read the events: %w", err)
	}
	defer rows.Close()
	var found []SecretFinding
	for rows.Next() {
		var f SecretFinding
		var data, metadata string
		if err := rows.Scan(&f.EventType, &f.StreamID, &f.Version, &data, &metadata); err != nil {
			return nil, fmt.Errorf("scan for secrets: read an event: %w", err)
		}
		for _, part := range []struct{ where, text string }{{"data", data}, {"metadata", metadata}} {
			texts := append([]string{part.text}, jsonStrings(part.text)...)
			for _, what := range secretsIn(texts, secrets, tokenHashes) {
				f.Where, f.Secret = part.where, what
				found = append(found, f)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan for secrets: read the events: %w", err)
	}
	if len(found) > 0 {
		lines := make([]string, len(found))
		for i, f := range found {
			lines[i] = f.String()
		}
		return found, fmt.Errorf("%w: %d events: %s", ErrSecretInLog, len(found), strings.Join(lines, "; "))
	}
	return nil, nil
}

// heldSecrets reads the secrets the database keeps in its secrets tables, those of the tables
// that exist.
func heldSecrets(ctx context.Context, conn *pgx.Conn) ([]heldSecret, map[[32]byte]string, error) {
	var secrets []heldSecret
	tokenHashes := map[[32]byte]string{}
	exists := func(table string) (bool, error) {
		var ok bool
		err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, "public."+table).Scan(&ok)
		return ok, err
	}
	if ok, err := exists("technician_webhooks"); err != nil {
		return nil, nil, err
	} else if ok {
		rows, err := conn.Query(ctx, `SELECT technician_id::text, url, signing_secret FROM technician_webhooks`)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var tech, u, secret string
			if err := rows.Scan(&tech, &u, &secret); err != nil {
				rows.Close()
				return nil, nil, err
			}
			secrets = append(secrets,
				heldSecret{u, "technician_webhooks.url of technician " + tech},
				heldSecret{secret, "technician_webhooks.signing_secret of technician " + tech})
			for _, part := range urlTokens(u) {
				secrets = append(secrets, heldSecret{part, "a token part of technician_webhooks.url of technician " + tech})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	if ok, err := exists("technician_credentials"); err != nil {
		return nil, nil, err
	} else if ok {
		rows, err := conn.Query(ctx, `SELECT technician_id::text, password_hash FROM technician_credentials WHERE password_hash IS NOT NULL`)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id, hash string
			if err := rows.Scan(&id, &hash); err != nil {
				rows.Close()
				return nil, nil, err
			}
			secrets = append(secrets, heldSecret{hash, "technician_credentials.password_hash of account " + id})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	for _, table := range []string{"sessions", "customer_tokens"} {
		ok, err := exists(table)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		rows, err := conn.Query(ctx, `SELECT token_hash FROM `+table)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var h []byte
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, nil, err
			}
			if len(h) != sha256.Size {
				continue
			}
			what := table + ".token_hash"
			secrets = append(secrets,
				heldSecret{hex.EncodeToString(h), what + " (hex)"},
				heldSecret{base64.StdEncoding.EncodeToString(h), what + " (base64)"},
				heldSecret{base64.RawURLEncoding.EncodeToString(h), what + " (base64url)"})
			tokenHashes[[32]byte(h)] = "a bearer token of " + table
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return secrets, tokenHashes, nil
}

// urlTokens returns the parts of a webhook URL that may carry its receiver's token: the
// password, every query value of 12 bytes or more, every path segment of 20 bytes or more
// (Slack's and Discord's hooks put it there).
func urlTokens(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var parts []string
	if p, ok := u.User.Password(); ok && p != "" {
		parts = append(parts, p)
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 12 {
				parts = append(parts, v)
			}
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 20 {
			parts = append(parts, seg)
		}
	}
	return parts
}

// jsonStrings returns every string of a JSON document (keys and values), unescaped, so that a
// secret written with escapes ("\u0026" for "&") is still found.
func jsonStrings(doc string) []string {
	dec := json.NewDecoder(strings.NewReader(doc))
	var out []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if s, ok := tok.(string); ok {
			out = append(out, s)
		}
	}
}

// tokenLen is the length of a bearer token as handed out: 32 bytes, base64url without padding.
const tokenLen = 43

// secretsIn says which secrets the texts hold.
func secretsIn(texts []string, secrets []heldSecret, tokenHashes map[[32]byte]string) []string {
	var found []string
	seen := map[string]bool{}
	note := func(what string) {
		if !seen[what] {
			seen[what] = true
			found = append(found, what)
		}
	}
	for _, s := range secrets {
		if s.value == "" {
			continue
		}
		for _, t := range texts {
			if strings.Contains(t, s.value) {
				note(s.what)
				break
			}
		}
	}
	if len(tokenHashes) == 0 {
		return found
	}
	for _, t := range texts {
		for _, run := range base64URLRuns([]byte(t)) {
			// A token stands alone (a JSON string, a query value) or is glued to other letters
			// (a path): every window of a run not much longer than a token is tried.
			if len(run) > 4*tokenLen {
				continue
			}
			for i := 0; i+tokenLen <= len(run); i++ {
				raw, err := base64.RawURLEncoding.DecodeString(string(run[i : i+tokenLen]))
				if err != nil || len(raw) != 32 {
					continue
				}
				if what, ok := tokenHashes[sha256.Sum256(raw)]; ok {
					note(what)
				}
			}
		}
	}
	return found
}

// base64URLRuns returns the runs of base64url characters at least a token long.
func base64URLRuns(b []byte) [][]byte {
	var runs [][]byte
	start := -1
	for i := 0; i <= len(b); i++ {
		in := i < len(b) && (b[i] >= 'A' && b[i] <= 'Z' || b[i] >= 'a' && b[i] <= 'z' || b[i] >= '0' && b[i] <= '9' || b[i] == '-' || b[i] == '_')
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			if i-start >= tokenLen {
				runs = append(runs, bytes.Clone(b[start:i]))
			}
			start = -1
		}
	}
	return runs
}
