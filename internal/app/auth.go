package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// Secrets never enter the event log: passwords, session and customer tokens are kept by a
// Credentials store as hashes, and the log only says that a password was set.

// Errors of the Credentials port.
var (
	ErrEmailTaken        = errors.New("another technician or auditor already uses that e-mail address")
	ErrWeakPassword      = errors.New("a password must be 8 to 72 bytes long")
	ErrBadCredentials    = errors.New("wrong e-mail address or password")
	ErrNoSession         = errors.New("not logged in, or the session expired")
	ErrNoCustomerToken   = errors.New("unknown customer token")
	ErrUnknownTechnician = errors.New("unknown technician")
)

// Role is what a logged-in account is: a technician, who serves requests, or an auditor, who
// reads the requests of their companies and changes nothing.
type Role string

const (
	RoleTechnician Role = "technician"
	RoleAuditor    Role = "auditor"
)

// Session is a logged-in technician's or auditor's session: its token opens the API as a
// bearer token and the console as a cookie; its CSRF token must accompany every change made
// with the cookie.
type Session struct {
	Token     string
	CSRFToken string
	// Role says whose session it is.
	Role Role
	// TechnicianID is the technician's ID, and zero in an auditor's session: a route that
	// serves technicians only finds no technician in it, never an auditor taken for one.
	TechnicianID uuid.UUID
	// AuditorID is the auditor's ID, and zero in a technician's session.
	AuditorID uuid.UUID
	ExpiresAt time.Time
}

// IsAuditor reports whether the session is an auditor's.
func (s Session) IsAuditor() bool { return s.Role == RoleAuditor }

// AccountID is the ID of the session's technician or auditor.
func (s Session) AccountID() uuid.UUID {
	if s.IsAuditor() {
		return s.AuditorID
	}
	return s.TechnicianID
}

// IdempotencyRecord is a stored response to a command sent with an Idempotency-Key.
type IdempotencyRecord struct {
	Fingerprint string
	// Status is 0 while the first request is still running.
	Status      int
	ContentType string
	Body        []byte
}

// Credentials keeps secrets outside the log. Technicians and auditors are accounts of one kind
// there, told apart by their role: one e-mail address opens one account, and a session knows
// its account's role.
type Credentials interface {
	// Reserve gives a technician an e-mail address to log in with; ReserveAuditor gives one to
	// an auditor. An address another account holds, of either role, is ErrEmailTaken.
	Reserve(ctx context.Context, technicianID uuid.UUID, email string) error
	ReserveAuditor(ctx context.Context, auditorID uuid.UUID, email string) error
	// SetPassword sets the password of a technician's or an auditor's account.
	SetPassword(ctx context.Context, accountID uuid.UUID, password string) error
	Authenticate(ctx context.Context, email, password string) (uuid.UUID, error)
	// CreateSession opens a session of the account's role.
	CreateSession(ctx context.Context, accountID uuid.UUID, ttl time.Duration) (Session, error)
	LookupSession(ctx context.Context, token string) (Session, error)
	CheckCSRF(session Session, presented string) bool
	DeleteSession(ctx context.Context, token string) error
	// DeleteTechnicianSessions ends every session of a technician (or an auditor), console
	// cookies and API bearer tokens alike, and returns how many there were.
	DeleteTechnicianSessions(ctx context.Context, accountID uuid.UUID) (int64, error)
	IssueCustomerToken(ctx context.Context, requestID uuid.UUID) (string, error)
	CustomerRequest(ctx context.Context, token string) (uuid.UUID, error)
	LoginAttempts
}

// Accounts runs the commands that touch both secrets and the log, in the order that leaves no
// half-done state visible: secrets first, then the event.
type Accounts struct {
	app    *App
	creds  Credentials
	ttl    time.Duration
	policy LoginPolicy
}

// NewAccounts returns Accounts whose sessions last ttl (12 h when zero), throttling logins by
// DefaultLoginPolicy, and trusting a session or customer token looked up for
// DefaultAuthCacheTTL (see WithAuthCache).
func NewAccounts(a *App, creds Credentials, ttl time.Duration) *Accounts {
	return &Accounts{app: a, creds: newAuthCache(creds, DefaultAuthCacheTTL), ttl: positiveOr(ttl, 12*time.Hour), policy: DefaultLoginPolicy}
}

// WithAuthCache returns a copy of s that trusts a session or customer token it looked up for
// ttl before asking the database again; zero asks every time. Sessions ended through s end at
// once; sessions ended by another process stop working within ttl.
func (s *Accounts) WithAuthCache(ttl time.Duration) *Accounts {
	c := *s
	if cached, ok := s.creds.(*authCache); ok {
		c.creds = cached.Credentials
	}
	c.creds = newAuthCache(c.creds, ttl)
	return &c
}

// WithLoginPolicy returns a copy of s that throttles logins by p; p's zero fields take
// DefaultLoginPolicy's values.
func (s *Accounts) WithLoginPolicy(p LoginPolicy) *Accounts {
	c := *s
	c.policy = p.withDefaults()
	return &c
}

// LoginPolicy returns the policy logins are throttled by.
func (s *Accounts) LoginPolicy() LoginPolicy { return s.policy }

// Credentials returns the secrets store.
func (s *Accounts) Credentials() Credentials { return s.creds }

// RegisterTechnicianWithPassword reserves the e-mail address, records the technician, then
// sets the password and records that it was set.
func (s *Accounts) RegisterTechnicianWithPassword(ctx context.Context, meta Meta, cmd RegisterTechnician, password string) (Result, error) {
	if _, err := directory.RegisterTechnician(cmd.TechnicianID, cmd.Name, cmd.Email); err != nil {
		return Result{}, err
	}
	if len(password) < 8 || len(password) > 72 {
		return Result{}, ErrWeakPassword
	}
	if err := s.creds.Reserve(ctx, cmd.TechnicianID, cmd.Email); err != nil {
		return Result{}, err
	}
	if _, err := s.app.RegisterTechnician(ctx, meta, cmd); err != nil {
		return Result{}, err
	}
	// A second append to the same stream within one command: a step of its own, or its event
	// would take the ID of the first one and be taken for a retry of it.
	return s.SetPassword(ctx, meta.Step("password"), cmd.TechnicianID, password)
}

// SetPassword replaces a technician's password and ends every session of theirs: whoever
// held the old password, or a session opened with it, is out. The sessions end before the
// change is recorded, so that a failure in between leaves it to be recorded on a retry, never
// a recorded change that left sessions open.
func (s *Accounts) SetPassword(ctx context.Context, meta Meta, technicianID uuid.UUID, password string) (Result, error) {
	if _, err := s.app.Technician(ctx, technicianID); err != nil {
		return Result{}, err
	}
	if err := s.creds.SetPassword(ctx, technicianID, password); err != nil {
		return Result{}, err
	}
	if err := s.endSessions(ctx, technicianID, "password changed"); err != nil {
		return Result{}, err
	}
	return s.app.RecordPasswordChange(ctx, meta, technicianID)
}

// RevokeAccess takes a technician's access to a company away and ends every session of
// theirs, as App.RevokeAccess does not: a technician whose access shrinks logs in again. The
// sessions end first, and only when the revocation is going to be recorded (the company
// exists and the technician has access to it), so that a refused revocation logs nobody out.
func (s *Accounts) RevokeAccess(ctx context.Context, meta Meta, cmd RevokeAccess) (Result, error) {
	t, err := s.app.Technician(ctx, cmd.TechnicianID)
	if err != nil {
		return Result{}, err
	}
	if _, err := s.app.Company(ctx, cmd.CompanyID); err != nil {
		return Result{}, err
	}
	// Without access there is nothing to end: App.RevokeAccess refuses, or answers a retry
	// of a revocation already recorded as that revocation did.
	if t.HasAccess(cmd.CompanyID) {
		if err := s.endSessions(ctx, cmd.TechnicianID, "access revoked"); err != nil {
			return Result{}, err
		}
	}
	return s.app.RevokeAccess(ctx, meta, cmd)
}

// endSessions ends every session of a technician or an auditor.
func (s *Accounts) endSessions(ctx context.Context, accountID uuid.UUID, why string) error {
	n, err := s.creds.DeleteTechnicianSessions(ctx, accountID)
	if err != nil {
		return fmt.Errorf("end the sessions of account %s (%s): %w", accountID, why, err)
	}
	if n > 0 {
		slog.InfoContext(ctx, "account's sessions ended", "account", accountID, "sessions", n, "reason", why)
	}
	return nil
}

// Login is LoginFrom with no client address: only the e-mail address is throttled. It is for
// callers that have no client, such as tests and tools; HTTP handlers call LoginFrom.
func (s *Accounts) Login(ctx context.Context, email, password string) (Session, error) {
	return s.LoginFrom(ctx, "", email, password)
}

// Submission is what SubmitRequestWithToken returns to the customer.
type Submission struct {
	Result
	RequestID     uuid.UUID
	CustomerToken string
}

// SubmitRequestWithToken validates the submission, issues the customer's token, then records
// the request: a failure after the token leaves only a token that opens nothing.
func (s *Accounts) SubmitRequestWithToken(ctx context.Context, meta Meta, cmd SubmitRequest) (Submission, error) {
	if _, err := s.app.decideSubmission(ctx, cmd); err != nil {
		return Submission{}, err
	}
	token, err := s.creds.IssueCustomerToken(ctx, cmd.RequestID)
	if err != nil {
		return Submission{}, fmt.Errorf("issue customer token: %w", err)
	}
	meta.Actor = Actor{Kind: "customer", ID: cmd.RequestID}
	res, err := s.app.SubmitRequest(ctx, meta, cmd)
	if err != nil {
		return Submission{}, err
	}
	return Submission{Result: res, RequestID: cmd.RequestID, CustomerToken: token}, nil
}
