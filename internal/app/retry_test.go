package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// A command run again with the same identity (actor, command, key), as after a crash between
// its append and its answer, answers the first attempt's result and writes nothing, even where
// deciding again on the changed state would refuse it (assign a request assigned to oneself).
// The same key with another command is another command.
func TestCommandRetriedAfterItsAnswerWasLost(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	tech := app.Actor{Kind: "technician", ID: w.techs[0]}
	requestID := uuid.New()
	must(t, func() (app.Result, error) {
		return w.app.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: requestID}}, app.SubmitRequest{
			RequestID: requestID, PortalID: w.portalID, CompanyID: w.companyID,
			Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}, Description: "help",
			Source: request.Source{Platform: request.Windows},
		})
	})
	assign := app.Meta{Actor: tech, IdempotencyKey: "k", Command: "POST /api/v1/requests/x/assign fp"}
	first := must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, assign, requestID) })
	// Decided again, the assign would be refused: the request is the technician's already.
	var assigned *request.AlreadyAssignedError
	if _, err := w.app.AssignToMe(ctx, app.Meta{Actor: tech}, requestID); !errors.As(err, &assigned) {
		t.Fatalf("assign again without a key: %v, want *request.AlreadyAssignedError", err)
	}
	again, err := w.app.AssignToMe(ctx, assign, requestID)
	if err != nil || again != first {
		t.Fatalf("assign retried = %+v, %v; want the first answer %+v", again, err, first)
	}

	// The same key on another command runs it, and a retry of that one is recognised too.
	join := app.Meta{Actor: tech, IdempotencyKey: "k", Command: "POST /api/v1/requests/x/join fp"}
	joined := must(t, func() (app.Result, error) { return w.app.JoinChat(ctx, join, requestID) })
	if !joined.Written || joined.Version != 2 {
		t.Fatalf("join with a reused key = %+v, want written at version 2", joined)
	}
	msg := app.Meta{Actor: tech, IdempotencyKey: "k", Command: "POST /api/v1/requests/x/messages fp"}
	sent := must(t, func() (app.Result, error) {
		return w.app.SendTechnicianMessage(ctx, msg, requestID, msg.NewID("text"), "hello")
	})
	resent := must(t, func() (app.Result, error) {
		return w.app.SendTechnicianMessage(ctx, msg, requestID, msg.NewID("text"), "hello")
	})
	if resent != sent {
		t.Fatalf("message retried = %+v, want the first answer %+v", resent, sent)
	}
	events, err := w.store.ReadStream(ctx, request.Stream(requestID), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	want := []string{"request.submitted.v1", "request.assigned.v1", "request.chat_joined.v1", "request.message_sent.v1"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}
