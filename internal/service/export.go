package service

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// exportedEvent is one event of a customer's request in a subject-access export.
type exportedEvent struct {
	Version    int64           `json:"version"`
	Type       string          `json:"type"`
	Actor      string          `json:"actor"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

// exportedRequest is one request of the customer, with its whole history opened.
type exportedRequest struct {
	RequestID uuid.UUID       `json:"request_id"`
	Events    []exportedEvent `json:"events"`
	Files     []string        `json:"files"` // paths inside the archive
}

// CustomerExport is what ExportCustomer wrote.
type CustomerExport struct {
	KeyID    uuid.UUID   `json:"key_id"`
	Requests []uuid.UUID `json:"requests"`
	Files    int         `json:"files"`
}

// ExportCustomer writes to w a zip archive of everything held about the customer with email
// (issue 17, item 4, subject access): customer.json (the key's ID and, per request, every event
// with its personal fields opened) and each file shared in their requests under
// files/<request>/<file ID> (the name is in its file_shared event). It needs the master key (nothing can be found by address
// without it) and refuses an erased customer (erasure.ErrUnknownCustomer).
func (s *Service) ExportCustomer(ctx context.Context, email string, w io.Writer) (CustomerExport, error) {
	if s.Keys == nil {
		return CustomerExport{}, ErrNoMasterKey
	}
	held, err := s.Keys.CustomerRequests(ctx, email)
	if err != nil {
		return CustomerExport{}, err
	}
	x := CustomerExport{KeyID: held.KeyID, Requests: held.Requests}
	archive := zip.NewWriter(w)
	doc := struct {
		ExportedAt time.Time         `json:"exported_at"`
		KeyID      uuid.UUID         `json:"key_id"`
		Requests   []exportedRequest `json:"requests"`
	}{ExportedAt: time.Now().UTC(), KeyID: held.KeyID, Requests: []exportedRequest{}}
	codec := request.Codec()
	for _, id := range held.Requests {
		events, err := s.Store.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
		if err != nil {
			return x, fmt.Errorf("export: read request %s: %w", id, err)
		}
		r := exportedRequest{RequestID: id, Events: make([]exportedEvent, 0, len(events)), Files: []string{}}
		for _, e := range events {
			r.Events = append(r.Events, exportedEvent{Version: e.Version, Type: e.Type, Actor: e.Metadata.Actor, OccurredAt: e.Metadata.OccurredAt, Data: e.Data})
			if e.Type != (&request.FileShared{}).EventType() {
				continue
			}
			ev, err := codec.Decode(e.Type, e.Data)
			if err != nil {
				return x, fmt.Errorf("export: read a shared file of request %s: %w", id, err)
			}
			shared := ev.(*request.FileShared)
			name := fmt.Sprintf("files/%s/%s", id, shared.FileID)
			if err := s.exportFile(ctx, archive, name, id, shared.FileID); err != nil {
				return x, err
			}
			r.Files = append(r.Files, name)
			x.Files++
		}
		doc.Requests = append(doc.Requests, r)
	}
	f, err := archive.Create("customer.json")
	if err != nil {
		return x, fmt.Errorf("export: %w", err)
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return x, fmt.Errorf("export: write customer.json: %w", err)
	}
	if err := archive.Close(); err != nil {
		return x, fmt.Errorf("export: %w", err)
	}
	return x, nil
}

// exportFile copies one stored file into the archive under name.
func (s *Service) exportFile(ctx context.Context, archive *zip.Writer, name string, requestID, fileID uuid.UUID) error {
	content, err := s.openFiles.Open(ctx, requestID, fileID)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer content.Close()
	f, err := archive.Create(name)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := io.Copy(f, content); err != nil {
		return fmt.Errorf("export: copy file %s: %w", fileID, err)
	}
	return nil
}
