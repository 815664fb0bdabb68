package filestore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/internal/app"
)

func newStore(t *testing.T) (*filestore.Local, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	s, err := filestore.New(dir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, dir
}

func read(t *testing.T, s *filestore.Local, requestID, fileID uuid.UUID) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), requestID, fileID)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

// files lists every regular file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var list []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			list = append(list, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return list
}

func TestNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if _, err := filestore.New(dir); err != nil {
		t.Fatalf("New: %v", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if !info.IsDir() || info.Mode().Perm() != 0o700 {
		t.Fatalf("%s: mode %v, want a 0700 directory", dir, info.Mode())
	}
	if _, err := filestore.New(dir); err != nil {
		t.Fatalf("New on an existing directory: %v", err)
	}
	if _, err := filestore.New(""); err == nil {
		t.Fatal("New with no directory succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := filestore.New(file); err == nil {
		t.Fatal("New on a regular file succeeded")
	}
}

func TestRoundTrip(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	req, file := uuid.New(), uuid.New()
	content := make([]byte, 1<<20+123)
	rand.Read(content)
	if err := s.Save(ctx, req, file, bytes.NewReader(content)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if got := read(t, s, req, file); !bytes.Equal(got, content) {
		t.Fatalf("read %d bytes, want the %d saved", len(got), len(content))
	}

	t.Run("stored under generated names only", func(t *testing.T) {
		want := filepath.Join(req.String(), file.String())
		if got := files(t, dir); len(got) != 1 || got[0] != want {
			t.Fatalf("files = %v, want [%s]", got, want)
		}
		info, err := os.Stat(filepath.Join(dir, want))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Fatalf("file mode %v is readable by others", info.Mode())
		}
	})
	t.Run("empty file", func(t *testing.T) {
		empty := uuid.New()
		if err := s.Save(ctx, req, empty, strings.NewReader("")); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if got := read(t, s, req, empty); len(got) != 0 {
			t.Fatalf("read %q", got)
		}
	})
	t.Run("saving again replaces", func(t *testing.T) {
		if err := s.Save(ctx, req, file, strings.NewReader("second version")); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if got := read(t, s, req, file); string(got) != "second version" {
			t.Fatalf("read %q", got)
		}
	})
	t.Run("same file ID in another request is another file", func(t *testing.T) {
		other := uuid.New()
		if err := s.Save(ctx, other, file, strings.NewReader("other request")); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if got := read(t, s, req, file); string(got) != "second version" {
			t.Fatalf("read %q", got)
		}
		if got := read(t, s, other, file); string(got) != "other request" {
			t.Fatalf("read %q", got)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		if err := s.Delete(ctx, req, file); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Open(ctx, req, file); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("Open after Delete: err = %v, want app.ErrNotFound", err)
		}
	})
}

func TestOpenMissing(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	req := uuid.New()
	// Neither the request's directory nor the file exists.
	rc, err := s.Open(ctx, req, uuid.New())
	if !errors.Is(err, app.ErrNotFound) || rc != nil {
		t.Fatalf("Open = %v, %v; want nil, app.ErrNotFound", rc, err)
	}
	// The request's directory exists, the file does not.
	if err := s.Save(ctx, req, uuid.New(), strings.NewReader("x")); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if _, err := s.Open(ctx, req, uuid.New()); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("Open: err = %v, want app.ErrNotFound", err)
	}
}

func TestDeleteMissing(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	req := uuid.New()
	if err := s.Delete(ctx, req, uuid.New()); err != nil {
		t.Fatalf("Delete with no request directory: %v", err)
	}
	if err := s.Save(ctx, req, uuid.New(), strings.NewReader("x")); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := s.Delete(ctx, req, uuid.New()); err != nil {
		t.Fatalf("Delete of a missing file: %v", err)
	}
}

// failingReader yields some bytes, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestSaveFailingReader(t *testing.T) {
	boom := errors.New("connection reset")
	cases := map[string]struct {
		reader func(cancel context.CancelFunc) io.Reader
		check  func(t *testing.T, err error)
	}{
		"read error": {
			reader: func(context.CancelFunc) io.Reader {
				return &failingReader{data: bytes.Repeat([]byte("a"), 100_000), err: boom}
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, boom) {
					t.Fatalf("err = %v, want the reader's error", err)
				}
			},
		},
		"body over http.MaxBytesReader's limit": {
			reader: func(context.CancelFunc) io.Reader {
				return http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(make([]byte, 5000))), 4096)
			},
			check: func(t *testing.T, err error) {
				var tooLarge *http.MaxBytesError
				if !errors.As(err, &tooLarge) || tooLarge.Limit != 4096 {
					t.Fatalf("err = %v, want an *http.MaxBytesError with limit 4096", err)
				}
			},
		},
		"context canceled mid-copy": {
			reader: func(cancel context.CancelFunc) io.Reader {
				return &cancelingReader{cancel: cancel, r: bytes.NewReader(make([]byte, 200_000))}
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, dir := newStore(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, file := uuid.New(), uuid.New()
			err := s.Save(ctx, req, file, c.reader(cancel))
			if err == nil {
				t.Fatal("Save succeeded")
			}
			if c.check != nil {
				c.check(t, err)
			} else if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if !strings.HasPrefix(err.Error(), "filestore: ") {
				t.Errorf("err %q is not wrapped with context", err)
			}
			if got := files(t, dir); len(got) != 0 {
				t.Fatalf("files left behind: %v", got)
			}
			if _, err := s.Open(context.Background(), req, file); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("Open after a failed Save: err = %v, want app.ErrNotFound", err)
			}
		})
	}

	t.Run("a failed save keeps the previous version", func(t *testing.T) {
		s, dir := newStore(t)
		ctx := context.Background()
		req, file := uuid.New(), uuid.New()
		if err := s.Save(ctx, req, file, strings.NewReader("good")); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if err := s.Save(ctx, req, file, &failingReader{data: []byte("bad"), err: boom}); !errors.Is(err, boom) {
			t.Fatalf("Save: err = %v, want the reader's error", err)
		}
		if got := read(t, s, req, file); string(got) != "good" {
			t.Fatalf("read %q", got)
		}
		if got := files(t, dir); len(got) != 1 {
			t.Fatalf("files = %v, want only the good one", got)
		}
	})
	t.Run("context already canceled", func(t *testing.T) {
		s, dir := newStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Save(ctx, uuid.New(), uuid.New(), strings.NewReader("x")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Save: err = %v, want context.Canceled", err)
		}
		if got := files(t, dir); len(got) != 0 {
			t.Fatalf("files left behind: %v", got)
		}
	})
}

// cancelingReader cancels its context after the first read.
type cancelingReader struct {
	cancel context.CancelFunc
	r      io.Reader
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

func TestConcurrentSaves(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	requests := []uuid.UUID{uuid.New(), uuid.New()}
	const perRequest = 16
	type saved struct {
		req, file uuid.UUID
		content   []byte
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		all  []saved
		errs []error
	)
	for _, req := range requests {
		for i := range perRequest {
			wg.Go(func() {
				file := uuid.New()
				content := bytes.Repeat([]byte(fmt.Sprintf("%s/%d;", file, i)), 2000)
				err := s.Save(ctx, req, file, bytes.NewReader(content))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				all = append(all, saved{req, file, content})
			})
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("Save: %v", errs)
	}
	for _, f := range all {
		if got := read(t, s, f.req, f.file); !bytes.Equal(got, f.content) {
			t.Fatalf("file %s: content differs", f.file)
		}
	}
	if got := files(t, dir); len(got) != len(requests)*perRequest {
		t.Fatalf("%d files stored, want %d: %v", len(got), len(requests)*perRequest, got)
	}
}
