package privacy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/privacy"
)

// Shared files of a sealed request are stored sealed, in chunks, and read back whole, whatever
// their size; a file changed, cut at a chunk's end, or moved under another ID does not open; a
// request from before encryption keeps its files as they are; an erased customer's files no
// longer open.
func TestSealedFiles(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	keys := newKeys(t, pool)
	ctx := context.Background()
	local, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := privacy.NewFiles(local, keys)
	req := uuid.New()
	submitted := encode(t, &request.Submitted{RequestID: req, CompanyID: uuid.New(), PortalID: uuid.New(), Description: "d",
		Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}})
	if err := privacy.NewProtector(keys).Protect(ctx, request.Stream(req), []eventlog.EventData{submitted}); err != nil {
		t.Fatal(err)
	}
	const chunk = 64 << 10
	stored := func(id uuid.UUID) string { return filepath.Join(local.Dir(), req.String(), id.String()) }
	read := func(requestID, id uuid.UUID) ([]byte, error) {
		f, err := files.Open(ctx, requestID, id)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(f)
	}
	for _, size := range []int{0, 1, 100, chunk - 1, chunk, chunk + 1, 3 * chunk, 3*chunk + 17} {
		content := make([]byte, size)
		if _, err := rand.Read(content); err != nil {
			t.Fatal(err)
		}
		copy(content, "secret passport scan") // a recognisable prefix, where it fits
		id := uuid.New()
		if err := files.Save(ctx, req, id, bytes.NewReader(content)); err != nil {
			t.Fatalf("save %d bytes: %v", size, err)
		}
		raw, err := os.ReadFile(stored(id))
		if err != nil {
			t.Fatal(err)
		}
		if size >= 20 && bytes.Contains(raw, content[:20]) {
			t.Errorf("%d bytes: the stored file holds the content in the clear", size)
		}
		got, err := read(req, id)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("%d bytes read back as %d bytes (%v)", size, len(got), err)
		}
	}

	big := make([]byte, 2*chunk)
	id := uuid.New()
	if err := files.Save(ctx, req, id, bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(stored(id))
	if err != nil {
		t.Fatal(err)
	}
	header := len(raw) - 2*(chunk+16)
	for _, tc := range []struct {
		name   string
		stored []byte
	}{
		{"a byte changed", func() []byte { b := bytes.Clone(raw); b[len(b)/2] ^= 1; return b }()},
		{"cut after the first chunk", raw[:header+chunk+16]},
		{"chunks swapped", func() []byte {
			b := bytes.Clone(raw[:header])
			b = append(b, raw[header+chunk+16:]...)
			return append(b, raw[header:header+chunk+16]...)
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := uuid.New()
			if err := os.WriteFile(stored(bad), tc.stored, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := read(req, bad); !errors.Is(err, privacy.ErrTampered) {
				t.Fatalf("read: %v, want ErrTampered", err)
			}
		})
	}
	t.Run("moved under another file ID", func(t *testing.T) {
		moved := uuid.New()
		if err := os.WriteFile(stored(moved), raw, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := read(req, moved); !errors.Is(err, privacy.ErrTampered) {
			t.Fatalf("read: %v, want ErrTampered", err)
		}
	})

	// A request from before encryption: stored and read as it is.
	old, oldFile := uuid.New(), uuid.New()
	if err := files.Save(ctx, old, oldFile, bytes.NewReader([]byte("plain bytes"))); err != nil {
		t.Fatal(err)
	}
	if raw, err := os.ReadFile(filepath.Join(local.Dir(), old.String(), oldFile.String())); err != nil || string(raw) != "plain bytes" {
		t.Fatalf("an unsealed request's file is stored as %q (%v)", raw, err)
	}
	if got, err := read(old, oldFile); err != nil || string(got) != "plain bytes" {
		t.Fatalf("an unsealed request's file reads %q (%v)", got, err)
	}

	// Erased: the bytes left on disk no longer open, and nothing new is stored.
	if _, err := keys.Destroy(ctx, "ada@example.com", uuid.New()); err != nil {
		t.Fatal(err)
	}
	if _, err := read(req, id); !errors.Is(err, privacy.ErrErasedFile) || !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("an erased customer's file: %v", err)
	}
	if err := files.Save(ctx, req, uuid.New(), bytes.NewReader([]byte("more"))); !errors.Is(err, privacy.ErrErasedFile) {
		t.Fatalf("saving for an erased customer: %v", err)
	}
}
