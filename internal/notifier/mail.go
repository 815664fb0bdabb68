package notifier

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// SMTPServer is a mail server as --smtp-url names it.
type SMTPServer struct {
	Addr     string // host:port
	Host     string
	Username string
	Password string
	From     string // the envelope and header sender
}

// ErrBadSMTPURL is returned by ParseSMTPURL.
var ErrBadSMTPURL = errors.New("bad SMTP URL")

// ParseSMTPURL reads smtp://[user[:password]@]host[:port]?from=address (port 587 when absent).
func ParseSMTPURL(raw string) (SMTPServer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPServer{}, fmt.Errorf("%w: %v", ErrBadSMTPURL, err)
	}
	if u.Scheme != "smtp" || u.Hostname() == "" {
		return SMTPServer{}, fmt.Errorf("%w %s: want smtp://[user:password@]host[:port]?from=address", ErrBadSMTPURL, u.Redacted())
	}
	from, err := mail.ParseAddress(u.Query().Get("from"))
	if err != nil {
		return SMTPServer{}, fmt.Errorf("%w %s: the from parameter must be an e-mail address: %v", ErrBadSMTPURL, u.Redacted(), err)
	}
	s := SMTPServer{Host: u.Hostname(), From: from.Address, Addr: net.JoinHostPort(u.Hostname(), "587")}
	if u.Port() != "" {
		s.Addr = u.Host
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// mailer sends the notifications' e-mails, one SMTP conversation each.
type mailer struct {
	server SMTPServer
	tls    *tls.Config
}

// send mails n to the address to: STARTTLS whenever the server offers it, then AUTH PLAIN
// when the URL carries a user (only over TLS or to a loopback server: the password never goes
// in clear over a network). The standard library's client is enough for one message a
// conversation; go-smtp's, which the tests' server comes from, starts TLS only when told to.
func (m *mailer) send(ctx context.Context, to string, n Notification) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.server.Addr)
	if err != nil {
		return fmt.Errorf("connect to the SMTP server %s: %w", m.server.Addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	c, err := smtp.NewClient(conn, m.server.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP %s: greeting: %w", m.server.Addr, err)
	}
	defer c.Close()
	if err := c.Hello("helpstream"); err != nil {
		return fmt.Errorf("SMTP %s: EHLO: %w", m.server.Addr, err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{ServerName: m.server.Host, MinVersion: tls.VersionTLS12}
		if m.tls != nil {
			cfg = m.tls.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = m.server.Host
			}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("SMTP %s: STARTTLS: %w", m.server.Addr, err)
		}
	}
	if m.server.Username != "" {
		// PlainAuth refuses to send the password in clear, but to a loopback server.
		if err := c.Auth(smtp.PlainAuth("", m.server.Username, m.server.Password, m.server.Host)); err != nil {
			return fmt.Errorf("SMTP %s: AUTH: %w", m.server.Addr, err)
		}
	}
	if err := c.Mail(m.server.From); err != nil {
		return fmt.Errorf("SMTP %s: MAIL FROM: %w", m.server.Addr, err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("SMTP %s: RCPT TO %s: %w", m.server.Addr, to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP %s: DATA: %w", m.server.Addr, err)
	}
	if _, err := w.Write(composeMail(m.server.From, to, n, time.Now())); err != nil {
		return fmt.Errorf("SMTP %s: write the message: %w", m.server.Addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP %s: the message was refused: %w", m.server.Addr, err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("SMTP %s: QUIT (the message was accepted): %w", m.server.Addr, err)
	}
	return nil
}

// MessageID is the Message-ID of the e-mail of the notification whose idempotency key is key:
// a mail client or a filter sees a resent notification as the same message.
func MessageID(key fmt.Stringer) string { return "<" + key.String() + "@notifications.helpstream>" }

// composeMail writes the e-mail of n: plain text, UTF-8, the subject encoded when it needs it.
// Everything that comes from outside (the company's name, the description) is on one line
// already (Summarize), so nothing can add a header.
func composeMail(from, to string, n Notification, now time.Time) []byte {
	company := oneLine(n.CompanyName)
	subject := "New support request"
	if company != "" {
		subject += " for " + company
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", (&mail.Address{Name: "Helpstream", Address: from}).String())
	header("To", (&mail.Address{Address: to}).String())
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", MessageID(n.ID))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "A customer submitted a support request")
	if company != "" {
		fmt.Fprintf(&b, " for %s", company)
	}
	fmt.Fprintf(&b, " at %s.\r\n\r\n", n.SubmittedAt.UTC().Format("2006-01-02 15:04 MST"))
	if n.Summary != "" {
		fmt.Fprintf(&b, "%s\r\n\r\n", n.Summary)
	}
	fmt.Fprintf(&b, "Open it: %s\r\n", n.URL)
	return b.Bytes()
}

// oneLine is s with every control character a space.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
