package eventlog

// Folder is an aggregate that brings itself up to date with events: every aggregate's Fold.
type Folder interface {
	Fold(events []Event)
}

// Replay rebuilds aggregate, new and empty, from its stream: it checks that the stream starts
// with an event of type Created, the one that creates such an aggregate, then folds the whole
// history into it and returns it. A stream that starts otherwise, or is empty, is not the
// aggregate's: Replay returns the zero A (a nil pointer) and notThisStream.
func Replay[Created Event, A Folder](aggregate A, history []Event, notThisStream error) (A, error) {
	var none A
	if len(history) == 0 {
		return none, notThisStream
	}
	if _, ok := history[0].(Created); !ok {
		return none, notThisStream
	}
	aggregate.Fold(history)
	return aggregate, nil
}

// Recorder is embedded in every aggregate to keep what its commands decided: each event a
// command records is applied to the aggregate's state at once, so that the command's next
// check sees it, and kept, in order, until a store has appended it.
type Recorder struct {
	changes []Event
}

// Changes returns the events recorded since the aggregate was created or loaded.
func (r *Recorder) Changes() []Event { return r.changes }

// Record applies e to the aggregate's state with apply, and keeps it among the changes. Only the
// aggregate's own commands record: anyone else changes an aggregate through its commands.
func (r *Recorder) Record(apply func(Event), e Event) {
	apply(e)
	r.changes = append(r.changes, e)
}
