package credentials_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/credentials"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// counters reads the counters of an address and a client address without changing them.
func counters(t *testing.T, s *credentials.Store, account, ip string) (acct, addr credentials.LoginCounter) {
	t.Helper()
	errLook := errors.New("only looking")
	err := s.UpdateLoginCounters(context.Background(), account, ip, func(a, i *credentials.LoginCounter) error {
		acct = *a
		if i != nil {
			addr = *i
		}
		return errLook
	})
	if !errors.Is(err, errLook) {
		t.Fatalf("UpdateLoginCounters: %v", err)
	}
	return acct, addr
}

func TestUpdateLoginCounters(t *testing.T) {
	s, pool := newStore(t)
	ctx := context.Background()
	count := func(t *testing.T) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM login_attempts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("unknown counters start at zero and what change leaves is stored", func(t *testing.T) {
		acct, addr := counters(t, s, "ann@example.com", "192.0.2.1")
		if acct != (credentials.LoginCounter{}) || addr != (credentials.LoginCounter{}) {
			t.Fatalf("fresh counters: %+v %+v", acct, addr)
		}
		err := s.UpdateLoginCounters(ctx, "ann@example.com", "192.0.2.1", func(a, i *credentials.LoginCounter) error {
			a.Failures, a.LastFailure, a.LockedAt = 20, t0, t0.Add(time.Second)
			i.Failures, i.LastFailure = 3, t0.Add(2*time.Second)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		acct, addr = counters(t, s, "ann@example.com", "192.0.2.1")
		if acct.Failures != 20 || !acct.LastFailure.Equal(t0) || !acct.LockedAt.Equal(t0.Add(time.Second)) || !acct.Locked() {
			t.Errorf("account counter %+v", acct)
		}
		if addr.Failures != 3 || !addr.LastFailure.Equal(t0.Add(2*time.Second)) || addr.Locked() {
			t.Errorf("client address counter %+v", addr)
		}
	})

	t.Run("a refused change stores nothing, not even the rows", func(t *testing.T) {
		before := count(t)
		refused := errors.New("refused")
		err := s.UpdateLoginCounters(ctx, "bea@example.com", "192.0.2.2", func(a, i *credentials.LoginCounter) error {
			a.Failures, i.Failures = 7, 7
			return refused
		})
		if err != refused {
			t.Fatalf("err = %v, want the change's own error, unwrapped", err)
		}
		if n := count(t); n != before {
			t.Errorf("%d rows, want %d", n, before)
		}
	})

	t.Run("no client address", func(t *testing.T) {
		err := s.UpdateLoginCounters(ctx, "cid@example.com", "", func(a, i *credentials.LoginCounter) error {
			if i != nil {
				t.Error("a counter for no client address")
			}
			a.Failures, a.LastFailure = 1, t0
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if acct, _ := counters(t, s, "cid@example.com", ""); acct.Failures != 1 {
			t.Errorf("account counter %+v", acct)
		}
	})

	t.Run("a counter left at zero is forgotten", func(t *testing.T) {
		before := count(t)
		err := s.UpdateLoginCounters(ctx, "cid@example.com", "192.0.2.3", func(a, i *credentials.LoginCounter) error {
			*a = credentials.LoginCounter{}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t); n != before-1 {
			t.Errorf("%d rows, want %d", n, before-1)
		}
	})

	t.Run("an address and a client address of the same text are two counters", func(t *testing.T) {
		err := s.UpdateLoginCounters(ctx, "same", "same", func(a, i *credentials.LoginCounter) error {
			a.Failures, i.Failures = 1, 2
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if acct, addr := counters(t, s, "same", "same"); acct.Failures != 1 || addr.Failures != 2 {
			t.Errorf("counters %+v %+v", acct, addr)
		}
	})

	t.Run("concurrent changes never lose one", func(t *testing.T) {
		const n = 40
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			// Half the callers share the address, all share the client address: each lock
			// is taken in the same order, so none deadlocks.
			account := "dee@example.com"
			if i%2 == 1 {
				account = "eve@example.com"
			}
			wg.Go(func() {
				errs <- s.UpdateLoginCounters(ctx, account, "192.0.2.4", func(a, c *credentials.LoginCounter) error {
					a.Failures++
					c.Failures++
					return nil
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		dee, addr := counters(t, s, "dee@example.com", "192.0.2.4")
		eve, _ := counters(t, s, "eve@example.com", "")
		if dee.Failures != n/2 || eve.Failures != n/2 || addr.Failures != n {
			t.Errorf("counters dee %d, eve %d, client address %d; want %d, %d, %d", dee.Failures, eve.Failures, addr.Failures, n/2, n/2, n)
		}
	})

	t.Run("only hashes are stored", func(t *testing.T) {
		rows, err := pool.Query(ctx, `SELECT key_hash FROM login_attempts`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var key []byte
			if err := rows.Scan(&key); err != nil {
				t.Fatal(err)
			}
			if len(key) != 32 || bytes.Contains(key, []byte("example.com")) || bytes.Contains(key, []byte("192.0.2")) {
				t.Errorf("stored key %q", key)
			}
		}
	})
}

func TestClearAndPurgeLoginCounters(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	set := func(account, ip string, failures int, last time.Time, locked bool) {
		t.Helper()
		err := s.UpdateLoginCounters(ctx, account, ip, func(a, i *credentials.LoginCounter) error {
			a.Failures, a.LastFailure = failures, last
			if locked {
				a.LockedAt = last
			}
			if i != nil {
				i.Failures, i.LastFailure = failures, last
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	set("locked@example.com", "192.0.2.10", 20, t0, true)
	set("old@example.com", "", 3, t0, false)
	set("recent@example.com", "", 3, t0.Add(48*time.Hour), false)

	c, err := s.ClearLoginCounter(ctx, "locked@example.com")
	if err != nil || c.Failures != 20 || !c.Locked() || !c.LastFailure.Equal(t0) {
		t.Fatalf("ClearLoginCounter = %+v, %v", c, err)
	}
	if acct, addr := counters(t, s, "locked@example.com", "192.0.2.10"); acct != (credentials.LoginCounter{}) || addr.Failures != 20 {
		t.Errorf("after clearing: address %+v, client address %+v (which keeps its count)", acct, addr)
	}
	if c, err := s.ClearLoginCounter(ctx, "never@example.com"); err != nil || c != (credentials.LoginCounter{}) {
		t.Errorf("ClearLoginCounter of an address without failures = %+v, %v", c, err)
	}

	set("locked@example.com", "", 20, t0, true)
	n, err := s.PurgeLoginCounters(ctx, t0.Add(24*time.Hour))
	if err != nil || n != 2 { // old@ and the client address 192.0.2.10
		t.Fatalf("PurgeLoginCounters = %d, %v; want 2", n, err)
	}
	for account, want := range map[string]int{"locked@example.com": 20, "old@example.com": 0, "recent@example.com": 3} {
		if acct, _ := counters(t, s, account, ""); acct.Failures != want {
			t.Errorf("%s after the purge: %+v, want %d failures", account, acct, want)
		}
	}
}
