package main

import (
	"flag"
	"time"

	"github.com/helpstream/helpstream/internal/notifier"
	"github.com/helpstream/helpstream/internal/service"
)

// notifyFlags are serve's flags of the notifications (R5: e-mail and webhooks).
type notifyFlags struct {
	on                 *bool
	smtpURL, publicURL *string
	attempts           *int
	timeout            *time.Duration
}

func addNotifyFlags(fs *flag.FlagSet) notifyFlags {
	return notifyFlags{
		on:        fs.Bool("notify", true, "notify technicians of new requests by e-mail (--smtp-url) and by their webhooks; with --stream-broker the notifier subscribes there, otherwise it runs its own forwarder to watermill-sql in the database"),
		smtpURL:   fs.String("smtp-url", envOr("HELPSTREAM_SMTP_URL", ""), "mail server of the e-mail notifications, smtp://user:password@host:port?from=address (STARTTLS whenever offered); e-mail is off when empty (env HELPSTREAM_SMTP_URL)"),
		publicURL: fs.String("public-url", envOr("HELPSTREAM_PUBLIC_URL", ""), "base URL of the console in the notifications' links (<url>/console/requests/<id>); the served address when empty (env HELPSTREAM_PUBLIC_URL)"),
		attempts:  fs.Int("webhook-attempts", notifier.DefaultMaxAttempts, "attempts of a notification (webhook or e-mail), with exponential backoff, before it is a dead letter (`helpstream admin webhook-dead-letters`)"),
		timeout:   fs.Duration("webhook-timeout", notifier.DefaultSendTimeout, "bound of one attempt: a webhook POST, an SMTP conversation"),
	}
}

// configure sets the notifications' fields of cfg: links to base unless --public-url, and the
// notifier on the forwarder's broker when there is one.
func (f notifyFlags) configure(cfg *service.Config, base, streamBroker string) {
	cfg.Notifications, cfg.SMTPURL = *f.on, *f.smtpURL
	cfg.PublicURL = *f.publicURL
	if cfg.PublicURL == "" {
		cfg.PublicURL = base
	}
	cfg.NotifyBroker, cfg.WebhookAttempts, cfg.WebhookTimeout = streamBroker, *f.attempts, *f.timeout
}
