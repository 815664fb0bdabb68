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
