// Package filestore keeps shared files' bytes in a local directory: the app.FileStore port.
//
// Files are stored only under names the server generates, <dir>/<requestID>/<fileID> (the
// canonical spelling of two UUIDs), never under a name a client chose. Save writes to a temporary
// file in the same directory, syncs it and renames it into place, so a reader never sees a
// half-written file, and a failed Save leaves nothing behind.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// tempPattern names temporary files; the leading dot and the suffix make them impossible to
// mistake for a stored file, whose name is a UUID.
const tempPattern = ".upload-*.tmp"

// Local is a FileStore in a local directory.
type Local struct {
	dir string
}

var _ app.FileStore = (*Local)(nil)

// New returns a store in dir, creating it (mode 0700) if needed.
func New(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("filestore: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: resolve %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("filestore: create %s: %w", abs, err)
	}
	return &Local{dir: abs}, nil
}

// Dir is the directory the files are kept in.
func (l *Local) Dir() string { return l.dir }

func (l *Local) requestDir(requestID uuid.UUID) string {
	return filepath.Join(l.dir, requestID.String())
}

func (l *Local) path(requestID, fileID uuid.UUID) string {
	return filepath.Join(l.requestDir(requestID), fileID.String())
}

// Save stores content as fileID of requestID, replacing a file already stored under that ID. If
// reading content fails (or ctx ends) it returns that error, wrapped so that errors.Is and
// errors.As still see it (an *http.MaxBytesError, say), and leaves no file behind.
func (l *Local) Save(ctx context.Context, requestID, fileID uuid.UUID, content io.Reader) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("filestore: save file %s of request %s: %w", fileID, requestID, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := l.requestDir(requestID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tempPattern) // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, &ctxReader{ctx: ctx, r: content}); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), l.path(requestID, fileID)); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable, where the platform supports it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Open returns a stored file's content, or an error matching app.ErrNotFound if there is none.
func (l *Local) Open(ctx context.Context, requestID, fileID uuid.UUID) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: open file %s of request %s: %w", fileID, requestID, err)
	}
	f, err := os.Open(l.path(requestID, fileID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("filestore: file %s of request %s: %w", fileID, requestID, app.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("filestore: open file %s of request %s: %w", fileID, requestID, err)
	}
	return f, nil
}

// Delete removes a stored file; a missing file is not an error.
func (l *Local) Delete(ctx context.Context, requestID, fileID uuid.UUID) error {
	err := os.Remove(l.path(requestID, fileID))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filestore: delete file %s of request %s: %w", fileID, requestID, err)
	}
	return nil
}
