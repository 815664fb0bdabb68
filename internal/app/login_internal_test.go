package app

import (
	"errors"
	"testing"
	"time"
)

func TestLoginPolicyDefaults(t *testing.T) {
	p := LoginPolicy{}.withDefaults()
	d := DefaultLoginPolicy
	if p.AccountFreeFailures != 5 || p.IPFreeFailures != 20 || p.FirstDelay != 10*time.Second || p.MaxDelay != 15*time.Minute ||
		p.LockoutFailures != 20 || p.AccountForgetAfter != 24*time.Hour || p.IPForgetAfter != time.Hour || p.Now == nil {
		t.Fatalf("defaults %+v", p)
	}
	custom := LoginPolicy{AccountFreeFailures: 3, MaxDelay: time.Minute}.withDefaults()
	if custom.AccountFreeFailures != 3 || custom.MaxDelay != time.Minute || custom.IPFreeFailures != d.IPFreeFailures {
		t.Fatalf("a field set is kept, the others defaulted: %+v", custom)
	}
}

func TestLoginPolicyWindow(t *testing.T) {
	p := DefaultLoginPolicy
	for _, c := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {4, 0},
		{5, 10 * time.Second}, {6, 20 * time.Second}, {7, 40 * time.Second}, {11, 640 * time.Second},
		{12, 15 * time.Minute}, {19, 15 * time.Minute}, {40, 15 * time.Minute}, {1 << 30, 15 * time.Minute},
	} {
		if got := p.window(LoginCounter{Failures: c.failures}, p.AccountFreeFailures); got != c.want {
			t.Errorf("window after %d failures = %v, want %v", c.failures, got, c.want)
		}
	}
}

func TestLoginKeys(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::9", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{" 192.0.2.7 ", "192.0.2.7"},
		{"", ""},
		{"not an address", "not an address"},
	} {
		if got := ipKey(c.in); got != c.want {
			t.Errorf("ipKey(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in, want string
		valid    bool
	}{
		{"Alice@Example.com", "alice@example.com", true},
		{"  alice@example.com ", "alice@example.com", true},
		{"Alice <alice@example.com>", "alice <alice@example.com>", false},
		{"nobody", "nobody", false},
		{"a\x00b@example.com", "a\x00b@example.com", false},
	} {
		if got, valid := loginKey(c.in); got != c.want || valid != c.valid {
			t.Errorf("loginKey(%q) = %q, %v; want %q, %v", c.in, got, valid, c.want, c.valid)
		}
	}
}

// The decisions admit and takeBack make, step by step, on the counters of one address and one
// client address.
func TestAdmitAndTakeBack(t *testing.T) {
	p := LoginPolicy{LockoutFailures: 7}.withDefaults()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var acct, addr LoginCounter

	// Five free failures, counted as soon as they are admitted.
	for i := range 5 {
		if _, err := p.admit(&acct, &addr, t0); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if acct.Failures != 5 || addr.Failures != 5 || !acct.LastFailure.Equal(t0) {
		t.Fatalf("after five: %+v %+v", acct, addr)
	}
	_, err := p.admit(&acct, &addr, t0.Add(9*time.Second))
	var throttled *LoginThrottledError
	if !errors.As(err, &throttled) || throttled.ByAddress || throttled.RetryAfter != time.Second || !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("inside the window: %v", err)
	}
	if acct.Failures != 5 {
		t.Fatalf("a refused attempt was counted: %+v", acct)
	}

	// A success takes its own attempt back, the latest failure included.
	t1 := t0.Add(10 * time.Second)
	at, err := p.admit(&acct, &addr, t1)
	if err != nil {
		t.Fatal(err)
	}
	p.takeBack(&addr, at.at, at.ip)
	if addr.Failures != 5 || !addr.LastFailure.Equal(t0) {
		t.Fatalf("taken back: %+v", addr)
	}

	// The failure that reaches LockoutFailures locks at once; taking it back unlocks.
	acct = LoginCounter{Failures: 6, LastFailure: t0}
	at, err = p.admit(&acct, nil, t0.Add(time.Hour))
	if err != nil || !acct.Locked() {
		t.Fatalf("the seventh failure: %v, %+v", err, acct)
	}
	if _, err := p.admit(&acct, nil, t0.Add(100*time.Hour)); !errors.Is(err, ErrAccountLocked) {
		t.Fatalf("locked, days later: %v", err)
	}
	p.takeBack(&acct, at.at, at.account)
	if acct.Locked() || acct.Failures != 6 || !acct.LastFailure.Equal(t0) {
		t.Fatalf("the lock taken back: %+v", acct)
	}

	// Failures are forgotten after a quiet spell, an address's and a client address's each
	// after its own.
	acct, addr = LoginCounter{Failures: 4, LastFailure: t0}, LoginCounter{Failures: 19, LastFailure: t0}
	if _, err := p.admit(&acct, &addr, t0.Add(time.Hour)); err != nil || acct.Failures != 5 || addr.Failures != 1 {
		t.Fatalf("an hour later: %v, %+v %+v", err, acct, addr)
	}

	// The client address is throttled apart from the address.
	addr = LoginCounter{Failures: 20, LastFailure: t0}
	_, err = p.admit(&LoginCounter{}, &addr, t0.Add(3*time.Second))
	if !errors.As(err, &throttled) || !throttled.ByAddress || throttled.RetryAfter != 7*time.Second {
		t.Fatalf("client address past its free failures: %v", err)
	}
	if throttled.Error() != "too many failed logins from this network address; try again in 7 seconds" {
		t.Errorf("message %q", throttled.Error())
	}
}
