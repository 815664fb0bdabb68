package routing

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ErrImpossibleEvent is matched by every refusal of Admit: no command could have recorded the
// event where the stream holds it.
var ErrImpossibleEvent = errors.New("no command could have recorded this event")

var (
	errOtherCompany = errors.New("the event names another company than the stream's")
	errUnchanged    = errors.New("it changes nothing")
	errNotRouting   = errors.New("it is not an event of this stream")
)

// Admit checks that e could follow the policy's history, as SetRoutingPolicy would have
// recorded it (valid settings, the stream's company, a change), then folds it in. The zero
// Policy admits a first PolicySet. The refusal wraps ErrImpossibleEvent.
func (p *Policy) Admit(e eventlog.Event) error {
	if err := p.admits(e); err != nil {
		return fmt.Errorf("%w: %s cannot follow: %w", ErrImpossibleEvent, e.EventType(), err)
	}
	p.apply(e)
	return nil
}

func (p *Policy) admits(e eventlog.Event) error {
	set, ok := e.(*PolicySet)
	if !ok {
		return errNotRouting
	}
	if p.companyID == uuid.Nil {
		_, err := NewPolicy(set.CompanyID, set.Settings())
		return err
	}
	if set.CompanyID != p.companyID {
		return errOtherCompany
	}
	s, err := set.Settings().validate()
	if err != nil {
		return err
	}
	if s.Equal(p.settings) {
		return errUnchanged
	}
	return nil
}
