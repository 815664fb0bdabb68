package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

func init() {
	adminActions = append(adminActions, adminAction{
		"secrets-migrate", "move the webhook URLs of old settings events (v1) into the secrets table, once; prints counts and technician IDs, never a URL",
		func(*flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
			return func(ctx context.Context, svc *service.Service, out io.Writer) error {
				report, err := migrateWebhookSecrets(ctx, svc.Store, svc.Webhooks)
				if err != nil {
					return err
				}
				report.print(out)
				return nil
			}
		},
	})
}

// webhookMigrator is the part of the secrets store secrets-migrate writes through.
type webhookMigrator interface {
	MigrateWebhook(ctx context.Context, technicianID uuid.UUID, rawURL string, sourceVersion int64) (bool, error)
}

// settingsSeen is the newest notification settings event of one technician's stream.
type settingsSeen struct {
	version int64
	v1      bool   // technician.notification_settings_changed.v1, which carried the URL
	url     string // its webhook_url; empty: the webhook was off
}

// migrationReport says what secrets-migrate did, technician by technician, without a URL.
type migrationReport struct {
	// Moved are the technicians whose endpoint was written (or removed: their newest v1 turned
	// the webhook off after an older one was moved).
	Moved []uuid.UUID
	// Current are the technicians whose endpoint was already at their newest v1 event or later.
	Current []uuid.UUID
	// Newer are the technicians whose newest settings event is version 2: the endpoint table
	// holds what they set since, and the old events are left alone.
	Newer []uuid.UUID
	// Off are the technicians whose newest v1 event had no URL and who had no endpoint.
	Off []uuid.UUID
	// Invalid are the technicians whose newest v1 event's URL no receiver could be (the table
	// would refuse it); nothing is written for them.
	Invalid []uuid.UUID
}

func (r migrationReport) print(out io.Writer) {
	line := func(what string, ids []uuid.UUID) {
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = id.String()
		}
		fmt.Fprintf(out, "%-8s %d", what, len(ids))
		if len(ids) > 0 {
			fmt.Fprintf(out, "  %s", strings.Join(names, " "))
		}
		fmt.Fprintln(out)
	}
	line("moved", r.Moved)
	line("current", r.Current)
	line("newer", r.Newer)
	line("off", r.Off)
	line("invalid", r.Invalid)
}

// migrateWebhookSecrets reads the whole log as stored, not through the codec (whose upcaster
// drops the URL), finds each technician's newest notification settings event, and, when it is
// a version 1 event, moves its webhook URL into the endpoint table with a fresh signing secret,
// unless an endpoint at that version or a later one is there already. Running it twice
// changes nothing; a version 2 setting, newer by construction, is never overwritten.
func migrateWebhookSecrets(ctx context.Context, store eventlog.Store, webhooks webhookMigrator) (migrationReport, error) {
	const v2 = "technician.notification_settings_changed.v2"
	newest := map[uuid.UUID]settingsSeen{}
	for from := eventlog.Start(); ; {
		batch, err := store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: 1000})
		if err != nil {
			return migrationReport{}, fmt.Errorf("read the log after %s: %w", from, err)
		}
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			from = e.Position
			if e.Type != directory.NotificationSettingsChangedV1 && e.Type != v2 {
				continue
			}
			tech, err := uuid.Parse(strings.TrimPrefix(e.StreamID, "technician-"))
			if err != nil || directory.TechnicianStream(tech) != e.StreamID {
				continue // not a technician's stream: no command writes it there
			}
			seen := settingsSeen{version: e.Version, v1: e.Type == directory.NotificationSettingsChangedV1}
			if seen.v1 {
				var v1 struct {
					Settings struct {
						WebhookURL string `json:"webhook_url"`
					} `json:"settings"`
				}
				if err := json.Unmarshal(e.Data, &v1); err != nil {
					slog.WarnContext(ctx, "secrets-migrate: a v1 settings event that is not its JSON is skipped", "stream", e.StreamID, "version", e.Version, "err", err)
					continue
				}
				seen.url = v1.Settings.WebhookURL
			}
			if prev, ok := newest[tech]; !ok || seen.version > prev.version {
				newest[tech] = seen
			}
		}
	}
	techs := slices.SortedFunc(maps.Keys(newest), func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	var r migrationReport
	for _, tech := range techs {
		seen := newest[tech]
		switch {
		case !seen.v1:
			r.Newer = append(r.Newer, tech)
			continue
		case seen.url != "" && app.CheckWebhookURL(seen.url) != nil:
			r.Invalid = append(r.Invalid, tech)
			continue
		}
		changed, err := webhooks.MigrateWebhook(ctx, tech, seen.url, seen.version)
		if err != nil {
			return r, err
		}
		switch {
		case changed:
			r.Moved = append(r.Moved, tech)
		case seen.url == "":
			r.Off = append(r.Off, tech)
		default:
			r.Current = append(r.Current, tech)
		}
	}
	return r, nil
}
