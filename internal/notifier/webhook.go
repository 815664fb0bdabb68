package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>", as
	// Stripe's does: the receiver recomputes it with its secret, compares in constant time and
	// refuses a timestamp too far from its clock (a replayed request).
	SignatureHeader = "Helpstream-Signature"
	// IdempotencyHeader carries the notification's idempotency key (the body's "id"): a
	// receiver that sees it twice drops the second.
	IdempotencyHeader = "Idempotency-Key"
)

// Sign returns the SignatureHeader value of body signed with secret at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signature(secret, ts, body))
}

func signature(secret, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return mac.Sum(nil)
}

// Verification errors.
var (
	ErrBadSignature = errors.New("the webhook signature does not match")
	ErrStale        = errors.New("the webhook signature's timestamp is outside the tolerance")
)

// Verify checks a SignatureHeader value against body and secret, and that its timestamp is
// within tolerance of now: what a receiver does (README, "Notifications").
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: malformed header %q", ErrBadSignature, header)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := signature(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrBadSignature
}

// postWebhook posts n to url, signed with secret at now. Any 2xx is a success; anything else,
// a redirect included, is a failure that is retried.
func postWebhook(ctx context.Context, client *http.Client, url, secret string, n Notification, now time.Time) error {
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("write the webhook body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Helpstream-Webhooks/1")
	req.Header.Set(SignatureHeader, Sign(secret, now, body))
	req.Header.Set(IdempotencyHeader, n.ID.String())
	resp, err := client.Do(req)
	if err != nil {
		// The URL carries the receiver's token: say only where it went wrong.
		var uerr interface{ Unwrap() error }
		if errors.As(err, &uerr) && uerr.Unwrap() != nil {
			err = uerr.Unwrap()
		}
		return fmt.Errorf("webhook POST to %s: %w", redactURL(url), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook POST to %s: %s", redactURL(url), resp.Status)
	}
	return nil
}

// redactURL keeps a webhook URL's scheme and host: its path and query often hold a token.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "(webhook)"
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	if _, h, ok := strings.Cut(host, "@"); ok {
		host = h
	}
	return scheme + "://" + host + "/…"
}
