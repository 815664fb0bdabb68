package notifier_test

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/notifier"
)

// The signature is Stripe's scheme: hex HMAC-SHA256 of "<t>.<body>" with the secret; Verify
// refuses another secret, another body, a stale timestamp and a malformed header.
func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"id":"x","type":"request.submitted"}`)
	at := time.Unix(1_800_000_000, 0)
	header := notifier.Sign("whsec_test", at, body)
	mac := hmac.New(sha256.New, []byte("whsec_test"))
	mac.Write([]byte("1800000000." + string(body)))
	if want := "t=1800000000,v1=" + hex.EncodeToString(mac.Sum(nil)); header != want {
		t.Fatalf("Sign = %q, want %q", header, want)
	}
	tests := []struct {
		name    string
		secret  string
		header  string
		body    []byte
		now     time.Time
		wantErr error
	}{
		{"valid", "whsec_test", header, body, at.Add(time.Minute), nil},
		{"another secret", "whsec_other", header, body, at, notifier.ErrBadSignature},
		{"another body", "whsec_test", header, []byte(`{"id":"y"}`), at, notifier.ErrBadSignature},
		{"stale", "whsec_test", header, body, at.Add(10 * time.Minute), notifier.ErrStale},
		{"from the future", "whsec_test", header, body, at.Add(-10 * time.Minute), notifier.ErrStale},
		{"no v1", "whsec_test", "t=1800000000", body, at, notifier.ErrBadSignature},
		{"no t", "whsec_test", strings.Split(header, ",")[1], body, at, notifier.ErrBadSignature},
		{"garbage", "whsec_test", "hello", body, at, notifier.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := notifier.Verify(tt.secret, tt.header, tt.body, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    notifier.SMTPServer
		wantErr bool
	}{
		{"smtp://mail.example.com?from=hs@example.com", notifier.SMTPServer{Addr: "mail.example.com:587", Host: "mail.example.com", From: "hs@example.com"}, false},
		{"smtp://u%40x:p%3Ass@127.0.0.1:2525?from=Help%20Desk%20%3Chs@example.com%3E", notifier.SMTPServer{Addr: "127.0.0.1:2525", Host: "127.0.0.1", Username: "u@x", Password: "p:ss", From: "hs@example.com"}, false},
		{"smtp://mail.example.com", notifier.SMTPServer{}, true},                      // no from
		{"smtp://mail.example.com?from=nobody", notifier.SMTPServer{}, true},          // not an address
		{"smtps://mail.example.com?from=hs@example.com", notifier.SMTPServer{}, true}, // another scheme
		{"smtp://?from=hs@example.com", notifier.SMTPServer{}, true},                  // no host
		{"::", notifier.SMTPServer{}, true},
	}
	for _, tt := range tests {
		got, err := notifier.ParseSMTPURL(tt.raw)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v, error %v", tt.raw, got, err, tt.want, tt.wantErr)
		}
		if err != nil && (!errors.Is(err, notifier.ErrBadSMTPURL) || strings.Contains(err.Error(), "p:ss")) {
			t.Errorf("ParseSMTPURL(%q): error %v is not ErrBadSMTPURL or shows the password", tt.raw, err)
		}
	}
}

func TestSummarize(t *testing.T) {
	long := strings.Repeat("é", notifier.SummaryRunes+10)
	tests := []struct{ in, want string }{
		{"  My printer\r\n\tis\x00 on fire  ", "My printer is on fire"},
		{"", ""},
		{"\n\n", ""},
		{long, strings.Repeat("é", notifier.SummaryRunes) + "…"},
		{"Subject: x\r\nBcc: y", "Subject: x Bcc: y"},
	}
	for _, tt := range tests {
		if got := notifier.Summarize(tt.in); got != tt.want {
			t.Errorf("Summarize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The same event, technician and channel give the same key; any other input another.
func TestIdempotencyKey(t *testing.T) {
	e, tech := uuid.New(), uuid.New()
	k := notifier.IdempotencyKey(e, tech, notifier.ChannelEmail)
	if k != notifier.IdempotencyKey(e, tech, notifier.ChannelEmail) {
		t.Fatal("the key is not deterministic")
	}
	for _, other := range []uuid.UUID{
		notifier.IdempotencyKey(e, tech, notifier.ChannelWebhook),
		notifier.IdempotencyKey(uuid.New(), tech, notifier.ChannelEmail),
		notifier.IdempotencyKey(e, uuid.New(), notifier.ChannelEmail),
	} {
		if other == k {
			t.Errorf("another input gave the same key %s", k)
		}
	}
	if want := uuid.UUID(md5.Sum([]byte(e.String() + "/" + tech.String() + "/email"))); k != want {
		t.Errorf("key %s, want the MD5 of event/technician/channel %s (what PostgreSQL computes)", k, want)
	}
}

// Config.Validate names every unusable field; New refuses such a config.
func TestConfigValidate(t *testing.T) {
	err := notifier.Config{PublicURL: "ftp://x", SMTPURL: "smtp://nohost", MaxAttempts: -1, SendTimeout: -time.Second}.Validate()
	if err == nil {
		t.Fatal("an empty config is valid")
	}
	for _, want := range []string{"Pool", "Subscriber", "PoisonPublisher", "Head", "WaitForDirectory", "PublicURL", "SMTP URL", "MaxAttempts", "SendTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; says nothing of %s", err, want)
		}
	}
	if _, err := notifier.New(notifier.Config{}); err == nil {
		t.Error("New took an empty config")
	}
}
