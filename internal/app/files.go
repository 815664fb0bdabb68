package app

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
)

// ErrFileTooLarge is returned for an upload over the size limit.
var ErrFileTooLarge = errors.New("file too large")

// ErrEmptyFile is returned for an upload with no content.
var ErrEmptyFile = errors.New("the file is empty")

// ContentMismatchError says a file's content is not what its extension claims.
type ContentMismatchError struct {
	Name string
}

func (e *ContentMismatchError) Error() string {
	return fmt.Sprintf("the content of %q does not match its file type", e.Name)
}

// Upload is a file someone shares in a request's chat (R10).
type Upload struct {
	RequestID uuid.UUID
	// FileID names the stored file; the client's file name is kept only as a label.
	FileID  uuid.UUID
	Name    string
	Content io.Reader
}

// ShareTechnicianFile stores and shares the assignee's file.
func (a *App) ShareTechnicianFile(ctx context.Context, meta Meta, up Upload) (Result, error) {
	// Checked before the bytes are stored, and again when the share is decided.
	tech, err := current(ctx, a, a.technicians, meta.Actor.ID)
	if err != nil {
		return Result{}, err
	}
	r, err := current(ctx, a, a.requests, up.RequestID)
	if err != nil {
		return Result{}, err
	}
	if !r.VisibleTo(tech) {
		return Result{}, a.requests.notFound(up.RequestID)
	}
	if err := r.CheckTechnicianCanShareFile(tech, up.Name); err != nil {
		return Result{}, err
	}
	return a.storeAndShare(ctx, up, func(f request.File) (Result, error) {
		return a.technicianAction(ctx, meta, up.RequestID, func(r *request.Request, t *directory.Technician) error {
			return r.ShareTechnicianFile(t, f)
		})
	})
}

// ShareCustomerFile stores and shares the customer's file, within their platform's types.
func (a *App) ShareCustomerFile(ctx context.Context, meta Meta, up Upload) (Result, error) {
	r, err := current(ctx, a, a.requests, up.RequestID)
	if err != nil {
		return Result{}, err
	}
	if err := r.CheckCustomerCanShareFile(up.Name); err != nil {
		return Result{}, err
	}
	return a.storeAndShare(ctx, up, func(f request.File) (Result, error) {
		return a.customerCommand(ctx, meta, up.RequestID, func(r *request.Request) error {
			return r.ShareCustomerFile(f)
		})
	})
}

// storeAndShare sniffs, hashes and stores the bytes, then records the share; a file whose
// share is refused is deleted again, so nothing is left half-done.
func (a *App) storeAndShare(ctx context.Context, up Upload, share func(request.File) (Result, error)) (Result, error) {
	content := bufio.NewReaderSize(clientReader{up.Content}, 512)
	head, err := content.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		return Result{}, fmt.Errorf("read upload: %w", err)
	}
	if len(head) == 0 {
		return Result{}, ErrEmptyFile
	}
	contentType, ok := request.SniffContent(up.Name, head)
	if !ok {
		return Result{}, &ContentMismatchError{Name: up.Name}
	}
	hash := sha256.New()
	counted := &countingReader{r: io.TeeReader(io.LimitReader(content, a.maxFileSize+1), hash)}
	if err := a.files.Save(ctx, up.RequestID, up.FileID, counted); err != nil {
		a.discard(ctx, up)
		var tooLarge interface{ MaxBytesLimit() int64 }
		if errors.As(err, &tooLarge) {
			return Result{}, ErrFileTooLarge
		}
		return Result{}, fmt.Errorf("store file: %w", err)
	}
	if counted.n > a.maxFileSize {
		a.discard(ctx, up)
		return Result{}, ErrFileTooLarge
	}
	res, err := share(request.File{
		ID:          up.FileID,
		Name:        up.Name,
		Size:        counted.n,
		ContentType: contentType,
		SHA256:      hex.EncodeToString(hash.Sum(nil)),
	})
	if err != nil {
		a.discard(ctx, up)
		return Result{}, err
	}
	return res, nil
}

func (a *App) discard(ctx context.Context, up Upload) {
	if err := a.files.Delete(context.WithoutCancel(ctx), up.RequestID, up.FileID); err != nil {
		slog.WarnContext(ctx, "could not delete an unshared upload", "request", up.RequestID, "file", up.FileID, "err", err)
	}
}

// ErrUploadCut is returned when an upload cannot be read to its end: the client's body was cut
// short, broken or too slow. The client's failure, to be sent again; never the server's, nor
// an outage of the database (an "unexpected EOF" from the client must not read as one).
var ErrUploadCut = errors.New("the upload was cut short or broken; send the file again")

// clientReader marks the errors of reading an upload as the client's (ErrUploadCut), keeping
// the cause for errors.As (a size limit, a deadline).
type clientReader struct{ r io.Reader }

func (c clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: %w", ErrUploadCut, err)
	}
	return n, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// SharedFile is a shared file's label and content.
type SharedFile struct {
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	Content     io.ReadCloser
}

// OpenFile returns a file shared in a request the viewer may see. An auditor's download is
// recorded in the access log before its content is handed over.
func (qs *Queries) OpenFile(ctx context.Context, viewer Viewer, requestID, fileID uuid.UUID) (SharedFile, error) {
	r, l, err := qs.requests.load(ctx, qs.store, requestID)
	if err != nil {
		return SharedFile{}, err
	}
	if err := qs.checkViewer(ctx, viewer, r); err != nil {
		return SharedFile{}, err
	}
	for _, e := range l.history {
		shared, ok := e.(*request.FileShared)
		if !ok || shared.FileID != fileID {
			continue
		}
		content, err := qs.files.Open(ctx, requestID, fileID)
		if err != nil {
			return SharedFile{}, fmt.Errorf("open file %s: %w", fileID, err)
		}
		if viewer.IsAuditor() {
			if err := qs.recordAccess(ctx, viewer, AccessEntry{Kind: AccessFile, RequestID: requestID, CompanyID: r.CompanyID(), FileID: fileID}); err != nil {
				_ = content.Close()
				return SharedFile{}, err
			}
		}
		return SharedFile{Name: shared.Name, ContentType: shared.ContentType, Size: shared.Size, SHA256: shared.SHA256, Content: content}, nil
	}
	return SharedFile{}, fmt.Errorf("file %s: %w", fileID, ErrNotFound)
}
