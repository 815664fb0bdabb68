// Package kurrenttest is an in-memory stand-in for KurrentDB's gRPC Streams service, so that
// the kurrent store's own code (appends, retries, read-back, paging of $all, subscriptions,
// reconnection) runs through the real client on machines without a server. It follows the server's documented behaviour:
//
//   - appends check the expected revision; with an expected revision below the stream's current
//     one, the events after it are compared by ID: all equal is an idempotent success (reported
//     without a position), some or none is a wrong expected version; Any dedupes only a repeat
//     of the stream's last append;
//   - a multi-event append gets one commit position for all its events and a prepare position
//     each; the append's answer carries the commit position and the transaction's (first)
//     prepare position, not the last event's;
//   - the server writes system events ($stats-…) into $all between ours;
//   - reads of $all from a position include the event at it; subscriptions start after it;
//   - filters match stream prefixes or a regular expression on the event type.
//
// It is not KurrentDB: the contract suite against a real server is kurrent's TestContract, run
// with HELPSTREAM_KURRENTDB_URL.
package kurrenttest

import (
	"errors"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type fakeRecord struct {
	stream          string
	revision        uint64
	id              uuid.UUID
	typ             string
	contentType     string
	data, meta      []byte
	commit, prepare uint64
	created         time.Time
}

func (r *fakeRecord) after(commit, prepare uint64) bool {
	return r.commit > commit || (r.commit == commit && r.prepare > prepare)
}

// Server is the stand-in. Start it with Start.
type Server struct {
	api.UnimplementedStreamsServer

	mu         sync.Mutex
	log        []*fakeRecord
	streams    map[string][]*fakeRecord
	lastAppend map[string][]uuid.UUID // the IDs of each stream's last append, for Any's dedupe
	nextPos    uint64
	appends    int
	changed    chan struct{} // closed and replaced after every write
	kill       chan struct{} // closed to drop every running subscription
	subs       int
}

// Start serves a fresh, empty stand-in on a loopback port until the test ends, and returns it
// and its connection string ("esdb://127.0.0.1:<port>?tls=false").
func Start(t testing.TB) (*Server, string) {
	t.Helper()
	f := &Server{
		streams:    map[string][]*fakeRecord{},
		lastAppend: map[string][]uuid.UUID{},
		nextPos:    1000,
		changed:    make(chan struct{}),
		kill:       make(chan struct{}),
	}
	f.writeSystemEvent() // a fresh server holds system events before ours
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	api.RegisterStreamsServer(srv, f)
	go srv.Serve(lis) //nolint:errcheck // ends with Stop
	t.Cleanup(srv.Stop)
	return f, "esdb://" + lis.Addr().String() + "?tls=false"
}

// DropSubscriptions ends every running subscription with an error, as a node restart would.
func (f *Server) DropSubscriptions() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.kill)
	f.kill = make(chan struct{})
}

// SubscriptionCount is how many subscriptions were opened so far.
func (f *Server) SubscriptionCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs
}

// write appends records to the log; the caller holds f.mu.
func (f *Server) write(stream string, first uint64, msgs []*api.AppendReq_ProposedMessage) (commit, prepare uint64) {
	txn := f.nextPos
	commit = txn + uint64(len(msgs))*100
	now := time.Now()
	for i, m := range msgs {
		id, _ := esdb.ParseUUIDFromInt64(m.GetId().GetStructured().GetMostSignificantBits(), m.GetId().GetStructured().GetLeastSignificantBits())
		r := &fakeRecord{
			stream: stream, revision: first + uint64(i), id: id,
			typ: m.Metadata["type"], contentType: m.Metadata["content-type"],
			data: m.Data, meta: m.CustomMetadata,
			commit: commit, prepare: txn + uint64(i)*100, created: now,
		}
		f.log = append(f.log, r)
		f.streams[stream] = append(f.streams[stream], r)
	}
	f.nextPos = commit + 100
	close(f.changed)
	f.changed = make(chan struct{})
	return commit, txn
}

func (f *Server) writeSystemEvent() {
	id, _ := uuid.NewRandom()
	most, least := esdb.UUIDAsInt64(id)
	f.write("$stats-127.0.0.1:2113", uint64(len(f.streams["$stats-127.0.0.1:2113"])), []*api.AppendReq_ProposedMessage{{
		Id:       &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
		Metadata: map[string]string{"type": "$statsCollected", "content-type": "application/json"},
		Data:     []byte(`{"proc-cpu":1}`),
	}})
}

func msgID(m *api.AppendReq_ProposedMessage) uuid.UUID {
	id, _ := esdb.ParseUUIDFromInt64(m.GetId().GetStructured().GetMostSignificantBits(), m.GetId().GetStructured().GetLeastSignificantBits())
	return id
}

// StoredIDs returns the IDs of a stream's events and their content types, as the server holds them.
func (f *Server) StoredIDs(stream string) ([]uuid.UUID, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []uuid.UUID
	var types []string
	for _, r := range f.streams[stream] {
		ids = append(ids, r.id)
		types = append(types, r.contentType)
	}
	return ids, types
}

// Append implements the Streams service's append.
func (f *Server) Append(srv api.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "options first")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	var msgs []*api.AppendReq_ProposedMessage
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		msgs = append(msgs, req.GetProposedMessage())
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	existing := f.streams[stream]
	current := int64(len(existing)) - 1
	ids := make([]uuid.UUID, len(msgs))
	for i, m := range msgs {
		ids[i] = msgID(m)
	}

	wrong := func() error {
		w := &api.AppendResp_WrongExpectedVersion{}
		if current < 0 {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		} else {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
		}
		switch e := opts.ExpectedStreamRevision.(type) {
		case *api.AppendReq_Options_Revision:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: e.Revision}
		case *api.AppendReq_Options_NoStream:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		case *api.AppendReq_Options_StreamExists:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		default:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		}
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}})
	}
	idempotent := func(last int64) error {
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
			CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(last)},
			PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
		}}})
	}
	doWrite := func() error {
		if len(msgs) == 0 {
			return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
				CurrentRevisionOption: &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
				PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
			}}})
		}
		commit, prepare := f.write(stream, uint64(current+1), msgs)
		f.lastAppend[stream] = ids
		f.appends++
		if f.appends%3 == 0 {
			f.writeSystemEvent()
		}
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
			CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(current) + uint64(len(msgs))},
			PositionOption:        &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: commit, PreparePosition: prepare}},
		}}})
	}

	var expected int64
	switch e := opts.ExpectedStreamRevision.(type) {
	case *api.AppendReq_Options_Any:
		// Best effort, like the server's cache: only a repeat of the stream's last append.
		if last := f.lastAppend[stream]; len(ids) > 0 && slices.Equal(last, ids) {
			return idempotent(current)
		}
		return doWrite()
	case *api.AppendReq_Options_StreamExists:
		if current < 0 {
			return wrong()
		}
		return doWrite()
	case *api.AppendReq_Options_NoStream:
		expected = -1
	case *api.AppendReq_Options_Revision:
		expected = int64(e.Revision)
	default:
		return status.Error(codes.InvalidArgument, "no expected revision")
	}
	switch {
	case expected == current:
		return doWrite()
	case expected > current:
		return wrong()
	}
	// expected < current: the events after expected decide.
	matched := 0
	for i, id := range ids {
		at := expected + 1 + int64(i)
		if at > current || existing[at].id != id {
			break
		}
		matched++
	}
	if matched == len(ids) && len(ids) > 0 {
		return idempotent(expected + int64(len(ids)))
	}
	return wrong()
}

func toReadEvent(r *fakeRecord) *api.ReadResp {
	most, least := esdb.UUIDAsInt64(r.id)
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.prepare,
			CommitPosition:   r.commit,
			Metadata: map[string]string{
				"type":         r.typ,
				"content-type": r.contentType,
				"created":      strconv.FormatInt(r.created.UnixNano()/100, 10),
			},
			CustomMetadata: r.meta,
			Data:           r.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.commit},
	}}}
}

// Read implements the Streams service's reads and subscriptions.
func (f *Server) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	o := req.GetOptions()
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	if sub := o.GetSubscription(); sub != nil {
		return f.subscribe(o, srv)
	}
	count := o.GetCount()

	f.mu.Lock()
	var selected []*fakeRecord
	if st := o.GetStream(); st != nil {
		name := string(st.GetStreamIdentifier().GetStreamName())
		events, ok := f.streams[name]
		if !ok {
			f.mu.Unlock()
			return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{StreamIdentifier: st.GetStreamIdentifier()}}})
		}
		switch r := st.RevisionOption.(type) {
		case *api.ReadReq_Options_StreamOptions_Start:
			selected = events
		case *api.ReadReq_Options_StreamOptions_End:
			if backwards {
				selected = events
			}
		case *api.ReadReq_Options_StreamOptions_Revision:
			if backwards {
				selected = events[:min(int(r.Revision)+1, len(events))]
			} else if int(r.Revision) < len(events) {
				selected = events[r.Revision:]
			}
		}
	} else {
		all := o.GetAll()
		switch a := all.AllOption.(type) {
		case *api.ReadReq_Options_AllOptions_Start:
			selected = f.log
		case *api.ReadReq_Options_AllOptions_End:
			if backwards {
				selected = f.log
			}
		case *api.ReadReq_Options_AllOptions_Position:
			c, p := a.Position.GetCommitPosition(), a.Position.GetPreparePosition()
			k := 0 // records at or before the position
			for k < len(f.log) && !f.log[k].after(c, p) {
				k++
			}
			if backwards {
				selected = f.log[:k]
			} else {
				start := k
				if k > 0 && f.log[k-1].commit == c && f.log[k-1].prepare == p {
					start = k - 1 // inclusive
				}
				selected = f.log[start:]
			}
		}
	}
	selected = append([]*fakeRecord(nil), selected...)
	f.mu.Unlock()

	if backwards {
		for i, j := 0, len(selected)-1; i < j; i, j = i+1, j-1 {
			selected[i], selected[j] = selected[j], selected[i]
		}
	}
	for i, r := range selected {
		if uint64(i) >= count {
			break
		}
		if err := srv.Send(toReadEvent(r)); err != nil {
			return err
		}
	}
	return nil
}

func (f *Server) subscribe(o *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	match := func(*fakeRecord) bool { return true }
	if flt := o.GetFilter(); flt != nil {
		expr, onType := flt.GetStreamIdentifier(), false
		if expr == nil {
			expr, onType = flt.GetEventType(), true
		}
		var re *regexp.Regexp
		if expr.GetRegex() != "" {
			re = regexp.MustCompile(expr.GetRegex())
		}
		prefixes := expr.GetPrefix()
		match = func(r *fakeRecord) bool {
			subject := r.stream
			if onType {
				subject = r.typ
			}
			if re != nil {
				return re.MatchString(subject)
			}
			for _, p := range prefixes {
				if strings.HasPrefix(subject, p) {
					return true
				}
			}
			return false
		}
	}

	f.mu.Lock()
	cursor := 0
	switch a := o.GetAll().AllOption.(type) {
	case *api.ReadReq_Options_AllOptions_End:
		cursor = len(f.log)
	case *api.ReadReq_Options_AllOptions_Position:
		c, p := a.Position.GetCommitPosition(), a.Position.GetPreparePosition()
		for cursor < len(f.log) && !f.log[cursor].after(c, p) { // exclusive
			cursor++
		}
	}
	kill := f.kill
	f.subs++
	f.mu.Unlock()

	if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}); err != nil {
		return err
	}
	caughtUp := false
	for {
		f.mu.Lock()
		pending := append([]*fakeRecord(nil), f.log[cursor:]...)
		cursor = len(f.log)
		changed := f.changed
		f.mu.Unlock()
		for _, r := range pending {
			if !match(r) {
				continue
			}
			if err := srv.Send(toReadEvent(r)); err != nil {
				return err
			}
		}
		if len(pending) > 0 {
			last := pending[len(pending)-1]
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{CommitPosition: last.commit, PreparePosition: last.prepare}}}); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-srv.Context().Done():
			return srv.Context().Err()
		case <-kill:
			return status.Error(codes.Unavailable, "node shutting down")
		case <-changed:
		}
	}
}
