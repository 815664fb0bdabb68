package service

import (
	"github.com/helpstream/helpstream/internal/routing"
)

// routingManager is the routing process manager (auto-assignment and reassignment), acting
// through this service's App; nil, logged, when it cannot be built.
func (s *Service) routingManager() *routing.Manager {
	m, err := routing.New(routing.Config{Pool: s.Pool, App: s.App, Logger: s.log, Options: s.cfg.Routing})
	if err != nil {
		s.log.Error("the routing manager cannot run", "err", err)
		return nil
	}
	return m
}
