// Package app is Helpstream's application layer: one handler per command (decide in the domain
// on the stream's state, append with the expected version; see writer.go) and the queries the
// API answers.
// It knows the event-store port and its own ports (file store, read models), never an adapter.
package app

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ErrNotFound is returned for an ID that names nothing, or nothing the caller may see.
var ErrNotFound = errors.New("not found")

// ErrTooManyConflicts is returned when a command kept losing races for its stream to other
// processes until its deadline (the context's, or Config.ConflictWait).
var ErrTooManyConflicts = errors.New("the request is changing too fast, try again")

// Actor is who issues a command; it goes into every event's metadata.
type Actor struct {
	// Kind is "customer", "technician", "admin" or "system".
	Kind string
	// ID is the technician's ID, the customer's request ID, or empty.
	ID uuid.UUID
}

// String renders the actor as stored in metadata, "technician:<uuid>".
func (a Actor) String() string {
	if a.ID == uuid.Nil {
		return a.Kind
	}
	return a.Kind + ":" + a.ID.String()
}

// Admin is the administrator actor.
var Admin = Actor{Kind: "admin"}

// Meta is what every command carries besides its own fields.
type Meta struct {
	Actor Actor
	// IdempotencyKey is the client's Idempotency-Key. When set, the command's identity is the
	// actor, Command and this key: its event IDs (and the IDs it creates, see NewID) derive
	// from that identity, so a retry of the same command writes nothing twice, while the same
	// key sent with another command is another command and never mistaken for the first.
	IdempotencyKey string
	// Command names what the key was sent with: the HTTP method, the path and a hash of the
	// body ("POST /api/v1/requests/<id>/join <sha256>"). Only read when IdempotencyKey is set.
	Command string
	// CorrelationID groups the events of one outside request.
	CorrelationID string
	// Decision, set by a process manager (actor "system"), goes into the metadata of every event
	// of the command: that it was automatic, which rule chose and why.
	Decision *eventlog.Decision
}

// IdempotencyClaim is the outcome of claiming an Idempotency-Key (see the HTTP layer's
// IdempotencyStore).
type IdempotencyClaim struct {
	// Claimed reports that the caller holds the key now and runs the request; Token
	// identifies its claim when it renews, completes or releases it.
	Claimed bool
	Token   uuid.UUID
	// TakenOver reports that the claim was taken over from an earlier attempt of the same
	// request whose lease ran out.
	TakenOver bool
	// Record is the stored record when the claim was not granted.
	Record IdempotencyRecord
	// LeaseLeft is how long the request holding an unfinished claim may still hold it.
	LeaseLeft time.Duration
}

// Result tells where a command's events landed. A query can wait for Position to read its
// own writes.
type Result struct {
	StreamID string
	// Version is the stream's last version after the command.
	Version int64
	// Position is the global position of the command's last event.
	Position eventlog.Position
	// Written is false when the command decided that nothing had to change.
	Written bool
}

// FileStore keeps shared files' bytes, under names the server generates.
type FileStore interface {
	// Save stores the file's content as fileID of requestID.
	Save(ctx context.Context, requestID, fileID uuid.UUID, content io.Reader) error
	// Open returns the content of a stored file, or an error matching ErrNotFound.
	Open(ctx context.Context, requestID, fileID uuid.UUID) (io.ReadCloser, error)
	// Delete removes a file that was stored but never shared.
	Delete(ctx context.Context, requestID, fileID uuid.UUID) error
}

// Config holds the application's dependencies.
type Config struct {
	// Store keeps every event.
	Store eventlog.Store
	// Files keeps shared files' bytes.
	Files FileStore
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxFileSize caps an upload, in bytes; 25 MiB when zero.
	MaxFileSize int64
	// ConflictWait is how long a command keeps deciding again after other processes wrote to
	// its streams first, unless its context ends sooner; DefaultConflictWait when zero.
	ConflictWait time.Duration
	// CachedStreams and CachedBytes bound the aggregates kept in memory between commands
	// (least recently used out first): DefaultCachedStreams and DefaultCachedBytes when zero;
	// a negative value keeps none, and every command reads its streams.
	CachedStreams int
	CachedBytes   int64

	// RequestList, RequestDetails and Directory are the read models that answer the queries
	// (the list, the Details panel, portals, companies and technicians). A query whose read
	// model is nil answers ErrNoReadModel; commands load streams and need none.
	RequestList    RequestListReadModel
	RequestDetails RequestDetailsReadModel
	Directory      DirectoryReadModel
	// WaitFor blocks until the read models have applied every event up to pos, or ctx ends;
	// it reports whether they got there. It serves read-your-writes (min_position).
	WaitFor func(ctx context.Context, pos eventlog.Position) (bool, error)
	// MaxProjectionWait bounds WaitForPosition; MaxProjectionWait (2 s) when zero.
	MaxProjectionWait time.Duration
	// RequestReads remembers when each technician last opened each request (the console's
	// unread marks); without one, nothing is marked unread.
	RequestReads RequestReads
	// AccessLog records every read an auditor makes; without one, auditors read nothing
	// (ErrNoAccessLog).
	AccessLog AccessLog
	// PointInTime folds the log up to the position at a moment (internal/asof), for the
	// auditors' views of the past; nil refuses them (ErrNoPointInTime).
	PointInTime func(ctx context.Context, t time.Time) (PastReadModels, error)
	// Webhooks keeps the technicians' webhook endpoints (URL and signing secret, outside the
	// log); without it, ChangeNotificationSettings and RotateWebhookSecret answer
	// ErrNoWebhookEndpoints and profiles show no webhook URL.
	Webhooks WebhookEndpoints
	// ReadOwnWrites makes every read-model query first wait (bounded by MaxProjectionWait)
	// until the read models include every event this App appended: clients of one server read
	// their own writes without passing min_position. Clients of several servers pass
	// min_position.
	ReadOwnWrites bool
	// Reports answers the console's Reports page from the analytics job's tables; nil refuses
	// reports (ErrNoReadModel).
	Reports ReportsReadModel
	// ScreenSharing makes the link of the session that starts when a customer accepts screen
	// sharing; nil records the acceptance alone (no session, no link).
	ScreenSharing *ScreenSharingProvider
	// Profiles keeps the companies' mobile profile templates; nil: no profile files can be
	// sent (ErrNoProfileTemplates).
	Profiles ProfileTemplates
	// CannedResponses answers the companies' canned responses (issue 16); nil refuses them
	// (ErrNoReadModel).
	CannedResponses CannedResponsesReadModel
	// Protect seals the personal fields of a stream's events before they are hashed into its
	// chain and appended (internal/privacy, issue 17), so that the chain covers the sealed
	// bytes; nil appends the events as decided. Store must then open them on reading.
	Protect func(ctx context.Context, streamID string, events []eventlog.EventData) error
}

// DefaultMaxFileSize is the upload limit when none is configured.
const DefaultMaxFileSize = 25 << 20

// App runs the commands: it decides on the aggregates' states and appends their events
// (writer.go). Its Queries answer from the read models.
type App struct {
	streamReader
	files        FileStore
	now          func() time.Time
	maxFileSize  int64
	webhooks     WebhookEndpoints
	webhookLocks keyedLocks
	// screenSharing makes session links; nil: no provider configured.
	screenSharing *ScreenSharingProvider
	profiles      ProfileTemplates

	// The command path (writer.go): the cache of the streams' states (of the kinds
	// streamReader knows), the writers.
	cache        *aggregateCache
	writers      writers
	conflictWait time.Duration
	counters     commandCounters
	written      *writeMark

	queries *Queries

	protect func(ctx context.Context, streamID string, events []eventlog.EventData) error // nil: none
}

// Queries answers the questions of the console, the portal and the API (the list, the
// details, the directory) from the read models, waiting, bounded, for what the caller or
// this process wrote; and folds a request's stream when an auditor asks for its history or a
// shared file is opened.
type Queries struct {
	streamReader
	files    FileStore
	now      func() time.Time
	webhooks WebhookEndpoints

	requestList       RequestListReadModel
	requestDetails    RequestDetailsReadModel
	directoryRM       DirectoryReadModel
	canned            CannedResponsesReadModel
	accessLog         AccessLog
	requestReads      RequestReads
	reports           ReportsReadModel
	pastReadModels    func(ctx context.Context, t time.Time) (PastReadModels, error)
	waitFor           func(ctx context.Context, pos eventlog.Position) (bool, error)
	maxProjectionWait time.Duration
	readOwnWrites     bool
	written           *writeMark // this process's commands' appends
	reachedMu         sync.Mutex
	reached           eventlog.Position // the read models are known to have applied it
	portals           sync.Map          // portal ID → portalOwner, see PortalCompany
	portalCount       atomic.Int64
}

// New returns an App, with defaults for what Config leaves unset.
func New(cfg Config) (*App, error) {
	if cfg.Store == nil {
		return nil, errors.New("app: an event store is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.MaxFileSize = positiveOr(cfg.MaxFileSize, DefaultMaxFileSize)
	cfg.ConflictWait = positiveOr(cfg.ConflictWait, DefaultConflictWait)
	if cfg.CachedStreams == 0 {
		cfg.CachedStreams = DefaultCachedStreams
	}
	if cfg.CachedBytes == 0 {
		cfg.CachedBytes = DefaultCachedBytes
	}
	cfg.MaxProjectionWait = positiveOr(cfg.MaxProjectionWait, MaxProjectionWait)
	streams, written := newStreamReader(cfg.Store), &writeMark{}
	return &App{
		streamReader: streams,
		files:        cfg.Files,
		now:          cfg.Now,
		maxFileSize:  cfg.MaxFileSize,
		webhooks:     cfg.Webhooks,

		screenSharing: cfg.ScreenSharing,
		profiles:      cfg.Profiles,
		protect:       cfg.Protect,

		cache:        newAggregateCache(cfg.CachedStreams, cfg.CachedBytes),
		writers:      writers{streams: map[string]*streamWriter{}},
		conflictWait: cfg.ConflictWait,
		written:      written,

		queries: &Queries{
			streamReader:      streams,
			files:             cfg.Files,
			now:               cfg.Now,
			webhooks:          cfg.Webhooks,
			requestList:       cfg.RequestList,
			requestDetails:    cfg.RequestDetails,
			directoryRM:       cfg.Directory,
			canned:            cfg.CannedResponses,
			accessLog:         cfg.AccessLog,
			requestReads:      cfg.RequestReads,
			reports:           cfg.Reports,
			pastReadModels:    cfg.PointInTime,
			waitFor:           cfg.WaitFor,
			maxProjectionWait: cfg.MaxProjectionWait,
			readOwnWrites:     cfg.ReadOwnWrites,
			written:           written,
		},
	}, nil
}

// positiveOr returns v, or fallback when v is zero or negative: how an unset size, count or
// duration takes its default.
func positiveOr[T ~int | ~int64](v, fallback T) T {
	if v <= 0 {
		return fallback
	}
	return v
}

// Queries returns the queries that answer from this App's read models and wait for its
// writes.
func (a *App) Queries() *Queries { return a.queries }

// MaxFileSize is the upload limit in bytes.
func (a *App) MaxFileSize() int64 { return a.maxFileSize }

// loaded is a stream as read by a query: its events decoded, with the version it ends at.
type loaded struct {
	streamID string
	history  []eventlog.Event
	recorded []eventlog.RecordedEvent
	version  int64
	lastHash string
}

func decodeStream(streamID string, recorded []eventlog.RecordedEvent, codec *eventlog.Codec) (loaded, error) {
	l := loaded{streamID: streamID, version: -1, recorded: recorded}
	for _, r := range recorded {
		e, err := codec.Decode(r.Type, r.Data)
		if err != nil {
			return loaded{}, fmt.Errorf("read %s version %d: %w", streamID, r.Version, err)
		}
		l.history = append(l.history, e)
		l.version, l.lastHash = r.Version, r.Metadata.Hash
	}
	return l, nil
}

// eventID is random, or, with an idempotency key, a name-based UUID of the command's identity
// (actor, command, key), the stream and the event's place in the command, so that the same
// command retried after a lost response produces the same IDs and the store writes nothing
// twice.
func (a *App) eventID(meta Meta, streamID string, index int) uuid.UUID {
	if meta.IdempotencyKey == "" {
		return uuid.New()
	}
	return meta.derivedID(fmt.Sprintf("event\x00%s\x00%d", streamID, index))
}

// NewID returns the ID of something the command creates (a request, a message, a file): random,
// or with an idempotency key derived from the command's identity and purpose, so that a retry
// creates the same thing again and the store recognises it.
func (m Meta) NewID(purpose string) uuid.UUID {
	if m.IdempotencyKey == "" {
		return uuid.New()
	}
	return m.derivedID("new\x00" + purpose)
}

// Step is the metadata of one step of a command that appends more than once to a stream:
// the same identity, told apart by the step's name, so that each step's events get IDs of
// their own and a retry of the command still finds each step's events.
func (m Meta) Step(name string) Meta {
	if m.IdempotencyKey != "" {
		m.Command += " step " + name
	}
	return m
}

func (m Meta) derivedID(what string) uuid.UUID {
	name := fmt.Sprintf("%s\x00%s\x00%s\x00%s", m.Actor, m.Command, m.IdempotencyKey, what)
	return uuid.NewHash(sha1.New(), idempotencyNamespace, []byte(name), 5)
}

// answered returns the result of this command's earlier attempt when that attempt's events
// are stored already: a retry after a lost answer answers as the first attempt did, instead of
// deciding again on a state it changed itself (an Assign retried would be told that the
// request is assigned, to its own sender). Only commands with an idempotency key can be
// recognised, and only on stores that can find an event by ID.
func (a *App) answered(ctx context.Context, meta Meta, streamID string) (Result, bool, error) {
	if meta.IdempotencyKey == "" {
		return Result{}, false, nil
	}
	finder, ok := a.store.(eventlog.AppendFinder)
	if !ok {
		return Result{}, false, nil
	}
	res, found, err := finder.FindAppend(ctx, streamID, a.eventID(meta, streamID, 0))
	if err != nil || !found {
		return Result{}, false, err
	}
	return Result{StreamID: streamID, Version: res.NextExpected, Position: res.Position, Written: true}, true, nil
}

var idempotencyNamespace = uuid.MustParse("6f1c3c52-6a1e-4d4c-9a51-3c8d2f0b7e11")
