package app

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DefaultAuthCacheTTL is how long a server trusts a session or customer token it has looked up,
// before it asks the database again (NewAccounts; WithAuthCache changes it).
const DefaultAuthCacheTTL = time.Second

// maxAuthCacheEntries bounds each map of authCache; past it, expired entries go, and if that is
// not enough, all of them.
const maxAuthCacheEntries = 100_000

// authCache keeps the answers of LookupSession and CustomerRequest for a short while, so that a
// command sent through the API costs one round trip to the database (its append), not two.
// Ending sessions through it takes effect at once in this process; sessions ended by another
// process (another serve, `helpstream admin`) stop working here within the TTL.
type authCache struct {
	Credentials
	ttl time.Duration

	mu         sync.Mutex
	sessions   map[string]cachedSession
	customers  map[string]cachedCustomer
	generation uint64 // bumped whenever sessions end: a lookup that began before is not kept
}

type cachedSession struct {
	session Session
	until   time.Time
}

type cachedCustomer struct {
	requestID uuid.UUID
	until     time.Time
}

func newAuthCache(creds Credentials, ttl time.Duration) Credentials {
	if ttl <= 0 {
		return creds
	}
	if c, ok := creds.(*authCache); ok {
		creds = c.Credentials
	}
	return &authCache{Credentials: creds, ttl: ttl, sessions: map[string]cachedSession{}, customers: map[string]cachedCustomer{}}
}

// LookupSession answers from the cache while the entry and the session are both current.
func (c *authCache) LookupSession(ctx context.Context, token string) (Session, error) {
	now := time.Now()
	c.mu.Lock()
	hit, ok := c.sessions[token]
	generation := c.generation
	c.mu.Unlock()
	if ok && now.Before(hit.until) && now.Before(hit.session.ExpiresAt) {
		return hit.session, nil
	}
	session, err := c.Credentials.LookupSession(ctx, token)
	if err != nil {
		return Session{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation == generation {
		if len(c.sessions) >= maxAuthCacheEntries {
			prune(c.sessions, now, func(e cachedSession) time.Time { return e.until })
		}
		c.sessions[token] = cachedSession{session: session, until: now.Add(c.ttl)}
	}
	return session, nil
}

// CustomerRequest answers from the cache while the entry is current.
func (c *authCache) CustomerRequest(ctx context.Context, token string) (uuid.UUID, error) {
	now := time.Now()
	c.mu.Lock()
	hit, ok := c.customers[token]
	c.mu.Unlock()
	if ok && now.Before(hit.until) {
		return hit.requestID, nil
	}
	requestID, err := c.Credentials.CustomerRequest(ctx, token)
	if err != nil {
		return uuid.Nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.customers) >= maxAuthCacheEntries {
		prune(c.customers, now, func(e cachedCustomer) time.Time { return e.until })
	}
	c.customers[token] = cachedCustomer{requestID: requestID, until: now.Add(c.ttl)}
	return requestID, nil
}

// DeleteSession ends the session here at once, then in the database.
func (c *authCache) DeleteSession(ctx context.Context, token string) error {
	c.mu.Lock()
	delete(c.sessions, token)
	c.generation++
	c.mu.Unlock()
	return c.Credentials.DeleteSession(ctx, token)
}

// DeleteTechnicianSessions ends the account's sessions in the database, then here.
func (c *authCache) DeleteTechnicianSessions(ctx context.Context, accountID uuid.UUID) (int64, error) {
	n, err := c.Credentials.DeleteTechnicianSessions(ctx, accountID)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	for token, e := range c.sessions {
		if e.session.AccountID() == accountID {
			delete(c.sessions, token)
		}
	}
	return n, err
}

// prune drops expired entries, and every entry when none had expired.
func prune[E any](m map[string]E, now time.Time, until func(E) time.Time) {
	for k, e := range m {
		if !now.Before(until(e)) {
			delete(m, k)
		}
	}
	if len(m) >= maxAuthCacheEntries {
		clear(m)
	}
}
