package service

import (
	"context"

	"github.com/helpstream/helpstream/internal/process"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// processManagers are the process managers this service runs with its projectors (issue 16):
// consumers of the one subscriber runtime, each deciding on the log and acting through the
// application's commands. Each one added here is led by one server of those on the database.
func (s *Service) processManagers() []subscriber.Consumer {
	managers := []subscriber.Consumer{s.serviceLevels}
	if s.retention != nil {
		managers = append(managers, s.retention)
	}
	if m := s.routingManager(); m != nil {
		managers = append(managers, m)
	}
	return managers
}

// processRunner is the runtime of the process managers, nil when there are none.
func (s *Service) processRunner() (func(context.Context), error) {
	managers := s.processManagers()
	if len(managers) == 0 {
		return nil, nil
	}
	rt, err := process.NewRuntime(process.Config{
		Pool: s.Pool, Store: s.Store, Managers: managers,
		Pacing:   subscriber.Pacing{Logger: s.log},
		Observer: s.runtime.observer(process.Kind),
	})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) { _ = rt.Run(ctx) }, nil
}
