package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// Login throttling. Every login attempt first passes the counters of failed logins of its
// e-mail address and of its client address, kept by the Credentials store so that every
// server shares them. An attempt inside a backoff window is refused before the password is
// looked at, so throttling stops guessing and not only its answers. The e-mail address is
// counted whether or not a technician has it: an unknown address is throttled and locked
// exactly like a known one, and the answers never tell them apart.

// LoginPolicy says how failed logins slow down, and finally lock out, whoever makes them.
// Zero fields take the value of DefaultLoginPolicy.
type LoginPolicy struct {
	// AccountFreeFailures is how many failed logins an e-mail address may have before each
	// further attempt must wait for its backoff window to pass. Default 5: enough for typos.
	AccountFreeFailures int
	// IPFreeFailures is the same for one client address (an IPv4 address, or the /64 of an
	// IPv6 one), across every e-mail address tried from it. Default 20, higher than the
	// account's so that one person cannot lock an office behind one NAT address out.
	IPFreeFailures int
	// FirstDelay is the backoff window after the first failure past the free ones; each
	// further failure doubles it. Default 10 s.
	FirstDelay time.Duration
	// MaxDelay caps the backoff window. Default 15 min.
	MaxDelay time.Duration
	// LockoutFailures is how many failed logins lock an e-mail address until an
	// administrator unlocks it (Accounts.Unlock); a locked address is refused whatever the
	// password. Default 20: past the free ones, about two and a half hours of guessing at
	// the pace the backoff allows.
	LockoutFailures int
	// AccountForgetAfter is how long an e-mail address must go without a failed login for its
	// failures to be forgotten (a lockout is never forgotten). Default 24 h, so that the
	// backoff, not a pause, sets an attacker's pace.
	AccountForgetAfter time.Duration
	// IPForgetAfter is the same for a client address. Default 1 h: a successful login does
	// not reset a client address (that would let anyone with an account wash the count of
	// their own guesses), so its failures must fade by themselves.
	IPForgetAfter time.Duration
	// Now is the clock of the backoff windows; time.Now when nil. Tests move it forward
	// rather than sleeping.
	Now func() time.Time
}

// DefaultLoginPolicy is the policy of every Accounts that is given none.
var DefaultLoginPolicy = LoginPolicy{
	AccountFreeFailures: 5,
	IPFreeFailures:      20,
	FirstDelay:          10 * time.Second,
	MaxDelay:            15 * time.Minute,
	LockoutFailures:     20,
	AccountForgetAfter:  24 * time.Hour,
	IPForgetAfter:       time.Hour,
	Now:                 time.Now,
}

// withDefaults fills the zero (or negative) fields from DefaultLoginPolicy.
func (p LoginPolicy) withDefaults() LoginPolicy {
	d := DefaultLoginPolicy
	p.AccountFreeFailures = positiveOr(p.AccountFreeFailures, d.AccountFreeFailures)
	p.IPFreeFailures = positiveOr(p.IPFreeFailures, d.IPFreeFailures)
	p.FirstDelay = positiveOr(p.FirstDelay, d.FirstDelay)
	p.MaxDelay = positiveOr(p.MaxDelay, d.MaxDelay)
	p.LockoutFailures = positiveOr(p.LockoutFailures, d.LockoutFailures)
	p.AccountForgetAfter = positiveOr(p.AccountForgetAfter, d.AccountForgetAfter)
	p.IPForgetAfter = positiveOr(p.IPForgetAfter, d.IPForgetAfter)
	if p.Now == nil {
		p.Now = d.Now
	}
	return p
}

// window is how long after its latest failure a counter refuses attempts: nothing while it
// has free failures left, then FirstDelay doubled for each failure past them, up to MaxDelay.
func (p LoginPolicy) window(c LoginCounter, free int) time.Duration {
	past := c.Failures - free
	if past < 0 {
		return 0
	}
	if past >= 30 { // beyond any cap, and a larger shift would overflow
		return p.MaxDelay
	}
	return min(p.FirstDelay<<past, p.MaxDelay)
}

// LoginCounter is what is known of the failed logins of one e-mail address or one client
// address.
type LoginCounter struct {
	// Failures counts the failed logins since the counter was last reset, and the attempts
	// still being checked (see Accounts.LoginFrom).
	Failures int
	// LastFailure is when the latest of them began.
	LastFailure time.Time
	// LockedAt is when the e-mail address was locked; zero while it is not.
	LockedAt time.Time
}

// Locked reports whether the counter holds a lockout.
func (c LoginCounter) Locked() bool { return !c.LockedAt.IsZero() }

// LoginAttempts keeps the counters of failed logins, shared by every server; the Credentials
// store implements it.
type LoginAttempts interface {
	// UpdateLoginCounters runs change on the counters of an e-mail address and of a client
	// address while no other caller, in any process, can change them, and stores what change
	// leaves; a counter never seen starts at zero, and a counter left at zero is forgotten.
	// ip may be empty: change is then given a nil ip counter. An error from change is
	// returned unwrapped and nothing is stored.
	UpdateLoginCounters(ctx context.Context, account, ip string, change func(account, ip *LoginCounter) error) error
	// ClearLoginCounter forgets the failures and the lockout of an e-mail address and returns
	// what they were.
	ClearLoginCounter(ctx context.Context, account string) (LoginCounter, error)
}

// ErrTooManyAttempts is matched by every *LoginThrottledError that LoginFrom returns.
var ErrTooManyAttempts = errors.New("too many failed logins")

// ErrAccountLocked is returned by LoginFrom for an e-mail address locked after
// LoginPolicy.LockoutFailures failed logins; the password was not checked.
var ErrAccountLocked = errors.New("this account is locked after too many failed logins; an administrator must unlock it")

// LoginThrottledError is returned by LoginFrom for an attempt made inside the backoff window
// of its e-mail address or of its client address; the password was not checked.
type LoginThrottledError struct {
	// ByAddress is true when the client address is throttled, false when the e-mail address is.
	ByAddress bool
	// RetryAfter is how long until the window closes.
	RetryAfter time.Duration
}

func (e *LoginThrottledError) Error() string {
	who := "for this e-mail address"
	if e.ByAddress {
		who = "from this network address"
	}
	return fmt.Sprintf("too many failed logins %s; try again in %d seconds", who, e.RetrySeconds())
}

// RetrySeconds is RetryAfter in whole seconds, rounded up (what a Retry-After header says).
func (e *LoginThrottledError) RetrySeconds() int {
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// Is makes errors.Is(err, ErrTooManyAttempts) true.
func (e *LoginThrottledError) Is(target error) bool { return target == ErrTooManyAttempts }

// LoginFrom checks a technician's password and opens a session, unless the e-mail address or
// the client address (clientIP, as the HTTP layer sees it; empty when unknown) must wait:
// then it returns a *LoginThrottledError, or ErrAccountLocked, without checking the password.
//
// The attempt is counted as a failure before the password is checked and taken back when it
// turns out right, so that concurrent guesses, on any server, cannot all slip through the
// same open window: the counters admit one attempt at a time. A success resets the e-mail
// address's counter; the client address's only loses this attempt.
func (s *Accounts) LoginFrom(ctx context.Context, clientIP, email, password string) (Session, error) {
	account, valid := loginKey(email)
	ip := ipKey(clientIP)
	var at admitted
	err := s.creds.UpdateLoginCounters(ctx, account, ip, func(acct, addr *LoginCounter) error {
		// Read under the lock: a time read before it could be older than the failure
		// another attempt, admitted while this one waited, has just recorded. Microseconds
		// are what a store keeps, and takeBack compares it with what was kept.
		var err error
		at, err = s.policy.admit(acct, addr, s.policy.Now().Truncate(time.Microsecond))
		return err
	})
	if err != nil {
		return Session{}, err
	}
	var id uuid.UUID
	if valid {
		id, err = s.creds.Authenticate(ctx, account, password)
	} else {
		// No technician can have an address that is not one; asking the store would only
		// trouble it with bytes it cannot hold.
		err = ErrBadCredentials
	}
	switch {
	case errors.Is(err, ErrBadCredentials):
		return Session{}, err // the failure is counted already
	case err != nil:
		s.settle(ctx, account, ip, "take back an attempt that was not decided", func(acct, addr *LoginCounter) {
			s.policy.takeBack(acct, at.at, at.account)
			s.policy.takeBack(addr, at.at, at.ip)
		})
		return Session{}, err
	}
	s.settle(ctx, account, ip, "reset the counter of a successful login", func(acct, addr *LoginCounter) {
		*acct = LoginCounter{}
		s.policy.takeBack(addr, at.at, at.ip)
	})
	session, err := s.creds.CreateSession(ctx, id, s.ttl)
	if err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	return session, nil
}

// admitted is an attempt admit let through: when, and the latest failures it replaced, so
// that taking it back restores them.
type admitted struct {
	at          time.Time
	account, ip time.Time
}

// admit refuses an attempt that must wait, or counts it as a failure until it is decided.
func (p LoginPolicy) admit(acct, addr *LoginCounter, now time.Time) (admitted, error) {
	p.forget(acct, p.AccountForgetAfter, now)
	p.forget(addr, p.IPForgetAfter, now)
	if acct.Locked() {
		return admitted{}, ErrAccountLocked
	}
	if wait := p.wait(*acct, p.AccountFreeFailures, now); wait > 0 {
		return admitted{}, &LoginThrottledError{RetryAfter: wait}
	}
	at := admitted{at: now, account: acct.LastFailure}
	if addr != nil {
		if wait := p.wait(*addr, p.IPFreeFailures, now); wait > 0 {
			return admitted{}, &LoginThrottledError{ByAddress: true, RetryAfter: wait}
		}
		at.ip = addr.LastFailure
		addr.Failures++
		addr.LastFailure = later(addr.LastFailure, now)
	}
	acct.Failures++
	acct.LastFailure = later(acct.LastFailure, now)
	if acct.Failures >= p.LockoutFailures {
		// Decided now rather than after the password is checked, so that no attempt
		// running alongside this one gets in; a right password takes it back.
		acct.LockedAt = now
	}
	return at, nil
}

// wait is how long a counter still refuses attempts at now: none while it has free failures
// left, whatever the clocks of the servers that wrote it say.
func (p LoginPolicy) wait(c LoginCounter, free int, now time.Time) time.Duration {
	window := p.window(c, free)
	if window == 0 {
		return 0
	}
	return c.LastFailure.Add(window).Sub(now)
}

// later returns the later of two times: a server whose clock runs behind must not move a
// counter's latest failure back.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// forget clears a counter whose latest failure is older than after, unless it is locked.
func (p LoginPolicy) forget(c *LoginCounter, after time.Duration, now time.Time) {
	if c != nil && !c.Locked() && c.Failures > 0 && now.Sub(c.LastFailure) >= after {
		*c = LoginCounter{}
	}
}

// takeBack removes one attempt that admit counted at a time, and the lockout it brought; the
// latest failure goes back to what it was (prev) unless another attempt came after, so that a
// success does not open a window as if it had failed.
func (p LoginPolicy) takeBack(c *LoginCounter, at, prev time.Time) {
	if c == nil || c.Failures == 0 {
		return
	}
	c.Failures--
	if c.Failures < p.LockoutFailures {
		c.LockedAt = time.Time{}
	}
	if c.LastFailure.Equal(at) {
		c.LastFailure = prev
	}
}

// settle changes the counters after an attempt was decided. It runs even when the client has
// gone, since the attempt was counted; a failure leaves the counters stricter than they should
// be, never looser, so it is logged and the login goes on.
func (s *Accounts) settle(ctx context.Context, account, ip, what string, change func(acct, addr *LoginCounter)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.creds.UpdateLoginCounters(ctx, account, ip, func(acct, addr *LoginCounter) error {
		change(acct, addr)
		return nil
	})
	if err != nil {
		slog.WarnContext(ctx, "login counters not updated; they stay stricter until they are forgotten", "action", what, "err", err)
	}
}

// loginKey is the key of an e-mail address's counter: the address as directory.NormalizeEmail
// writes it, so that every spelling of one address shares one counter. An address that is not
// one (valid false) is keyed by its trimmed lower case, and throttled all the same.
func loginKey(email string) (key string, valid bool) {
	key, err := directory.NormalizeEmail(email)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(email)), false
	}
	return key, true
}

// ipKey is the key of a client address's counter: an IPv4 address (IPv4-mapped IPv6 ones
// included) as is, an IPv6 address by its /64, which one subscriber usually holds whole. What
// does not parse is used as given.
func ipKey(clientIP string) string {
	clientIP = strings.TrimSpace(clientIP)
	addr, err := netip.ParseAddr(clientIP)
	if err != nil {
		return clientIP
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	prefix, _ := addr.Prefix(64) // an IPv6 address always has a /64
	return prefix.String()
}

// UnlockResult is what an unlock cleared.
type UnlockResult struct {
	// Email is the address whose counter was cleared, as LoginFrom keys it.
	Email string
	// Failures is how many failed logins were forgotten.
	Failures int
	// WasLocked reports whether the address was locked.
	WasLocked bool
}

// Unlock lifts the lockout of an e-mail address, known or not, and forgets its failed logins,
// so that its next login is checked at once. Its client addresses keep their own counters.
func (s *Accounts) Unlock(ctx context.Context, email string) (UnlockResult, error) {
	account, _ := loginKey(email)
	if account == "" {
		return UnlockResult{}, fmt.Errorf("unlock: %w", directory.ErrInvalidEmail)
	}
	c, err := s.creds.ClearLoginCounter(ctx, account)
	if err != nil {
		return UnlockResult{}, fmt.Errorf("unlock %s: %w", account, err)
	}
	slog.InfoContext(ctx, "login counter cleared by an administrator", "email", account, "failures", c.Failures, "was_locked", c.Locked())
	return UnlockResult{Email: account, Failures: c.Failures, WasLocked: c.Locked()}, nil
}

// UnlockTechnician is Unlock for a technician's e-mail address; an unknown technician is
// ErrNotFound.
func (s *Accounts) UnlockTechnician(ctx context.Context, technicianID uuid.UUID) (UnlockResult, error) {
	t, err := s.app.Technician(ctx, technicianID)
	if err != nil {
		return UnlockResult{}, err
	}
	return s.Unlock(ctx, t.Email())
}
