package credentials_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/credentials"
)

const lease = time.Minute

func claim(t *testing.T, s *credentials.Store, scope, key, fp string) credentials.IdempotencyClaim {
	t.Helper()
	c, err := s.ClaimIdempotencyKey(context.Background(), scope, key, fp, lease)
	if err != nil {
		t.Fatalf("claim %s/%s: %v", scope, key, err)
	}
	return c
}

func TestIdempotencyKeys(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()

	first := claim(t, s, "technician:1", "key-1", "fp-1")
	if !first.Claimed || first.Token == uuid.Nil || first.TakenOver {
		t.Fatalf("first claim = %+v; want claimed with a token", first)
	}

	t.Run("in progress", func(t *testing.T) {
		c := claim(t, s, "technician:1", "key-1", "fp-other")
		if c.Claimed || c.Record.Fingerprint != "fp-1" || c.Record.Status != 0 || len(c.Record.Body) != 0 {
			t.Fatalf("second claim = %+v, want fp-1 in progress", c)
		}
		if c.LeaseLeft <= 0 || c.LeaseLeft > lease {
			t.Errorf("lease left %v, want within (0, %v]", c.LeaseLeft, lease)
		}
	})
	t.Run("scopes are separate", func(t *testing.T) {
		if c := claim(t, s, "technician:2", "key-1", "fp-1"); !c.Claimed {
			t.Fatalf("claim in another scope = %+v; want claimed", c)
		}
	})
	t.Run("only the holder completes", func(t *testing.T) {
		err := s.CompleteIdempotencyKey(ctx, "technician:1", "key-1", uuid.New(), 201, "application/json", []byte("x"))
		wantErr(t, err, credentials.ErrIdempotencyKeyNotClaimed)
		if err := s.ReleaseIdempotencyKey(ctx, "technician:1", "key-1", uuid.New()); err != nil {
			t.Fatalf("release with another token: %v", err)
		}
		if c := claim(t, s, "technician:1", "key-1", "fp-1"); c.Claimed {
			t.Fatal("a release with another token freed the claim")
		}
	})
	t.Run("completed and replayed", func(t *testing.T) {
		body := []byte(`{"id":"x"}`)
		if err := s.CompleteIdempotencyKey(ctx, "technician:1", "key-1", first.Token, 201, "application/json", body); err != nil {
			t.Fatalf("CompleteIdempotencyKey: %v", err)
		}
		c := claim(t, s, "technician:1", "key-1", "fp-1")
		if c.Claimed || c.Record.Status != 201 || c.Record.ContentType != "application/json" || string(c.Record.Body) != string(body) {
			t.Fatalf("replayed record = %+v", c)
		}
		err := s.CompleteIdempotencyKey(ctx, "technician:1", "key-1", first.Token, 500, "text/plain", nil)
		wantErr(t, err, credentials.ErrIdempotencyKeyNotClaimed)
		if err := s.ReleaseIdempotencyKey(ctx, "technician:1", "key-1", first.Token); err != nil {
			t.Fatalf("ReleaseIdempotencyKey of a completed key: %v", err)
		}
		if c := claim(t, s, "technician:1", "key-1", "fp-1"); c.Record.Status != 201 {
			t.Fatalf("releasing removed a completed record: %+v", c)
		}
	})
	t.Run("completed with no body", func(t *testing.T) {
		c := claim(t, s, "s", "empty-body", "fp")
		if err := s.CompleteIdempotencyKey(ctx, "s", "empty-body", c.Token, 204, "", nil); err != nil {
			t.Fatalf("CompleteIdempotencyKey: %v", err)
		}
		if c := claim(t, s, "s", "empty-body", "fp"); c.Record.Status != 204 || len(c.Record.Body) != 0 {
			t.Fatalf("record = %+v", c)
		}
	})
	t.Run("released and claimed again", func(t *testing.T) {
		c := claim(t, s, "s", "failing", "fp-a")
		if err := s.ReleaseIdempotencyKey(ctx, "s", "failing", c.Token); err != nil {
			t.Fatalf("ReleaseIdempotencyKey: %v", err)
		}
		if again := claim(t, s, "s", "failing", "fp-b"); !again.Claimed || again.TakenOver {
			t.Fatalf("claim after release = %+v; want a fresh claim", again)
		}
	})
	t.Run("release of a missing key", func(t *testing.T) {
		if err := s.ReleaseIdempotencyKey(ctx, "s", "never-claimed", uuid.New()); err != nil {
			t.Fatalf("ReleaseIdempotencyKey: %v", err)
		}
	})
	t.Run("complete a key never claimed", func(t *testing.T) {
		err := s.CompleteIdempotencyKey(ctx, "s", "never-claimed", uuid.New(), 200, "text/plain", []byte("ok"))
		wantErr(t, err, credentials.ErrIdempotencyKeyNotClaimed)
	})
	t.Run("status must be positive", func(t *testing.T) {
		c := claim(t, s, "s", "status", "fp")
		wantErr(t, s.CompleteIdempotencyKey(ctx, "s", "status", c.Token, 0, "", nil), credentials.ErrInvalidStatus)
		wantErr(t, s.CompleteIdempotencyKey(ctx, "s", "status", c.Token, -1, "", nil), credentials.ErrInvalidStatus)
	})
	t.Run("invalid keys", func(t *testing.T) {
		for _, key := range []string{"", strings.Repeat("k", credentials.MaxIdempotencyKeyLength+1)} {
			c, err := s.ClaimIdempotencyKey(ctx, "s", key, "fp", lease)
			wantErr(t, err, credentials.ErrInvalidIdempotencyKey)
			if c.Claimed {
				t.Error("an invalid key was claimed")
			}
		}
		if c := claim(t, s, "s", strings.Repeat("k", credentials.MaxIdempotencyKeyLength), "fp"); !c.Claimed {
			t.Fatalf("claim of the longest key = %+v", c)
		}
	})
}

// A claim is a lease: while its request renews it nobody else gets it; once the request died
// (stopped renewing) a retry of the same request takes it over, and the dead one can no
// longer complete or release it. Another request reusing the key never takes it over.
func TestIdempotencyLease(t *testing.T) {
	s, pool := newStore(t)
	ctx := context.Background()
	const short = 300 * time.Millisecond
	dead, err := s.ClaimIdempotencyKey(ctx, "s", "k", "fp", short)
	if err != nil || !dead.Claimed {
		t.Fatalf("claim = %+v, %v", dead, err)
	}
	if err := s.RenewIdempotencyKey(ctx, "s", "k", dead.Token, short); err != nil {
		t.Fatalf("renew: %v", err)
	}
	if c, _ := s.ClaimIdempotencyKey(ctx, "s", "k", "fp", short); c.Claimed {
		t.Fatal("a live claim was taken over")
	}
	// The holder dies: its lease runs out.
	if _, err := pool.Exec(ctx, `UPDATE idempotency_keys SET lease_until = now() - interval '1 second' WHERE key = 'k'`); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimIdempotencyKey(ctx, "s", "k", "another-request", short); c.Claimed {
		t.Fatal("another request reusing the key took over the claim")
	}
	retry, err := s.ClaimIdempotencyKey(ctx, "s", "k", "fp", short)
	if err != nil || !retry.Claimed || !retry.TakenOver || retry.Token == dead.Token {
		t.Fatalf("retry after the lease ran out = %+v, %v; want taken over with a new token", retry, err)
	}
	wantErr(t, s.RenewIdempotencyKey(ctx, "s", "k", dead.Token, short), credentials.ErrIdempotencyKeyNotClaimed)
	wantErr(t, s.CompleteIdempotencyKey(ctx, "s", "k", dead.Token, 200, "", nil), credentials.ErrIdempotencyKeyNotClaimed)
	if err := s.ReleaseIdempotencyKey(ctx, "s", "k", dead.Token); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteIdempotencyKey(ctx, "s", "k", retry.Token, 200, "text/plain", []byte("ok")); err != nil {
		t.Fatalf("the retry completes: %v", err)
	}
	// A completed record is never taken over, however old its lease.
	if _, err := pool.Exec(ctx, `UPDATE idempotency_keys SET lease_until = now() - interval '1 hour' WHERE key = 'k'`); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimIdempotencyKey(ctx, "s", "k", "fp", short); c.Claimed || c.Record.Status != 200 {
		t.Fatalf("claim of a completed key = %+v; want its record", c)
	}
}

func TestIdempotencyKeyConcurrentClaims(t *testing.T) {
	s, _ := newStore(t)
	for round := range 5 {
		key := fmt.Sprintf("race-%d", round)
		const n = 16
		var wg sync.WaitGroup
		claims := make([]credentials.IdempotencyClaim, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				// Half of them are retries of one request, half other requests.
				claims[i], errs[i] = s.ClaimIdempotencyKey(context.Background(), "scope", key, fmt.Sprintf("fp-%d", i%2), lease)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("claim %d: %v", i, errs[i])
			}
			if claims[i].Claimed {
				if winner >= 0 {
					t.Fatalf("%s claimed by %d and %d", key, winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("%s claimed by nobody", key)
		}
		for i := range n {
			if want := fmt.Sprintf("fp-%d", winner%2); claims[i].Record.Fingerprint != want {
				t.Fatalf("claim %d saw fingerprint %q, want the winner's %s", i, claims[i].Record.Fingerprint, want)
			}
		}
	}
}

func TestPurgeIdempotencyKeys(t *testing.T) {
	s, pool := newStore(t)
	ctx := context.Background()
	tokens := map[string]uuid.UUID{}
	for _, key := range []string{"old-done", "old-stuck", "recent"} {
		tokens[key] = claim(t, s, "s", key, "fp-"+key).Token
	}
	if err := s.CompleteIdempotencyKey(ctx, "s", "old-done", tokens["old-done"], 200, "text/plain", []byte("ok")); err != nil {
		t.Fatalf("CompleteIdempotencyKey: %v", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key LIKE 'old-%'`); err != nil {
		t.Fatalf("age keys: %v", err)
	}
	n, err := s.PurgeIdempotencyKeys(ctx, time.Now().Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PurgeIdempotencyKeys = %d, %v; want 2", n, err)
	}
	for key, wantClaimed := range map[string]bool{"old-done": true, "old-stuck": true, "recent": false} {
		if c := claim(t, s, "s", key, "fp-new"); c.Claimed != wantClaimed {
			t.Fatalf("claim %s after purge = %+v; want claimed %v", key, c, wantClaimed)
		}
	}
	if n, err := s.PurgeIdempotencyKeys(ctx, time.Now().Add(-24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("second purge = %d, %v; want 0", n, err)
	}
}
