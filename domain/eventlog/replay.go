package eventlog

// Replay rebuilds an aggregate from its stream: it checks that the stream starts with an event
// of type Created, the one that creates such an aggregate, and then applies every event of
// history in order. A stream that starts otherwise, or is empty, is not the aggregate's: Replay
// returns notThisStream and applies nothing.
func Replay[Created Event](history []Event, apply func(Event), notThisStream error) error {
	if len(history) == 0 {
		return notThisStream
	}
	if _, ok := history[0].(Created); !ok {
		return notThisStream
	}
	for _, e := range history {
		apply(e)
	}
	return nil
}
