package privacy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// A sealed file is fileMagic, its key's ID, an 8-byte random nonce prefix, then the content in
// chunks of fileChunk bytes (the last one shorter, possibly empty), each sealed with
// AES-256-GCM under the request's key, its nonce the prefix and the chunk's number, bound to the
// request, the file and whether it is the last chunk: a chunk moved, dropped or cut off does
// not open. A file without the magic was stored before encryption and is read as it is.
const (
	fileMagic  = "HSFILE\x00\x01"
	fileChunk  = 64 << 10
	fileHeader = len(fileMagic) + 16 + 8
)

// ErrErasedFile is returned when a file's key was destroyed: its bytes no longer open.
var ErrErasedFile = fmt.Errorf("the file's customer was erased: %w", app.ErrNotFound)

// Files seals the bytes of the files shared in sealed requests with their customer's key
// before they reach inner, and opens them on reading (issue 17): the files directory holds no
// customer's bytes in the clear, and erasing the customer makes them unreadable even before
// they are deleted. Files of requests without a key pass through unchanged.
type Files struct {
	inner app.FileStore
	keys  *Keys
}

var _ app.FileStore = (*Files)(nil)

// NewFiles returns inner with its files sealed under keys.
func NewFiles(inner app.FileStore, keys *Keys) *Files { return &Files{inner: inner, keys: keys} }

// Save seals content under the request's key and stores it. A request whose customer was
// erased stores nothing (ErrErasedFile).
func (f *Files) Save(ctx context.Context, requestID, fileID uuid.UUID, content io.Reader) error {
	keyID, bound, err := f.keys.requestKey(ctx, requestID)
	if err != nil {
		return err
	}
	if !bound {
		return f.inner.Save(ctx, requestID, fileID, content)
	}
	a, err := f.keys.key(ctx, keyID)
	if err != nil {
		return err
	}
	if a == nil {
		return ErrErasedFile
	}
	prefix := make([]byte, 8)
	if _, err := rand.Read(prefix); err != nil {
		return fmt.Errorf("privacy: nonce: %w", err)
	}
	header := append(append([]byte(fileMagic), keyID[:]...), prefix...)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(sealChunks(pw, content, a, prefix, requestID, fileID))
	}()
	err = f.inner.Save(ctx, requestID, fileID, io.MultiReader(bytes.NewReader(header), pr))
	pr.CloseWithError(errors.New("privacy: the file store stopped reading"))
	return err
}

// chunkAD binds a chunk to its file and says whether it is the last.
func chunkAD(requestID, fileID uuid.UUID, last bool) []byte {
	ad := make([]byte, 0, 33)
	ad = append(append(ad, requestID[:]...), fileID[:]...)
	if last {
		return append(ad, 1)
	}
	return append(ad, 0)
}

func chunkNonce(prefix []byte, n uint32) []byte {
	return binary.BigEndian.AppendUint32(append(make([]byte, 0, nonceSize), prefix...), n)
}

// sealChunks writes content to w in sealed chunks; the chunk that ends the content is marked
// last (an empty one when the content ends on a chunk's boundary).
func sealChunks(w io.Writer, content io.Reader, a cipher.AEAD, prefix []byte, requestID, fileID uuid.UUID) error {
	cur, next := make([]byte, fileChunk), make([]byte, fileChunk)
	n, err := io.ReadFull(content, cur)
	out := make([]byte, 0, fileChunk+tagSize)
	for number := uint32(0); ; number++ {
		last := false
		var m int
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			last = true
		case err != nil:
			return err
		default:
			m, err = io.ReadFull(content, next)
			if errors.Is(err, io.EOF) {
				last = true
			}
		}
		out = a.Seal(out[:0], chunkNonce(prefix, number), cur[:n], chunkAD(requestID, fileID, last))
		if _, werr := w.Write(out); werr != nil {
			return werr
		}
		if last {
			return nil
		}
		cur, next, n = next, cur, m
	}
}

// Open returns the file's content opened; a file stored before encryption as it is.
func (f *Files) Open(ctx context.Context, requestID, fileID uuid.UUID) (io.ReadCloser, error) {
	stored, err := f.inner.Open(ctx, requestID, fileID)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(stored, fileChunk+tagSize)
	head, err := r.Peek(fileHeader)
	if err != nil || !bytes.Equal(head[:len(fileMagic)], []byte(fileMagic)) {
		return readCloser{Reader: r, Closer: stored}, nil // stored before encryption
	}
	keyID, err := uuid.FromBytes(head[len(fileMagic) : len(fileMagic)+16])
	if err != nil {
		stored.Close()
		return nil, err
	}
	prefix := bytes.Clone(head[len(fileMagic)+16 : fileHeader])
	a, err := f.keys.key(ctx, keyID)
	if err != nil {
		stored.Close()
		return nil, err
	}
	if a == nil {
		stored.Close()
		return nil, ErrErasedFile
	}
	if _, err := r.Discard(fileHeader); err != nil {
		stored.Close()
		return nil, err
	}
	return &openedFile{r: r, closer: stored, a: a, prefix: prefix, ad: func(last bool) []byte { return chunkAD(requestID, fileID, last) }}, nil
}

// Delete removes the stored file.
func (f *Files) Delete(ctx context.Context, requestID, fileID uuid.UUID) error {
	return f.inner.Delete(ctx, requestID, fileID)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// openedFile reads a sealed file's chunks one at a time.
type openedFile struct {
	r      *bufio.Reader
	closer io.Closer
	a      cipher.AEAD
	prefix []byte
	ad     func(last bool) []byte
	number uint32
	plain  []byte // what is left of the chunk opened last
	done   bool
	buf    []byte
}

func (o *openedFile) Read(p []byte) (int, error) {
	for len(o.plain) == 0 {
		if o.done {
			return 0, io.EOF
		}
		if err := o.openChunk(); err != nil {
			return 0, err
		}
	}
	n := copy(p, o.plain)
	o.plain = o.plain[n:]
	return n, nil
}

func (o *openedFile) openChunk() error {
	if o.buf == nil {
		o.buf = make([]byte, fileChunk+tagSize)
	}
	n, err := io.ReadFull(o.r, o.buf)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		o.done = true
	case err != nil:
		return err
	default:
		if _, peekErr := o.r.Peek(1); errors.Is(peekErr, io.EOF) {
			o.done = true
		}
	}
	plain, err := o.a.Open(o.buf[:0], chunkNonce(o.prefix, o.number), o.buf[:n], o.ad(o.done))
	if err != nil {
		return fmt.Errorf("privacy: chunk %d of a sealed file: %w", o.number, ErrTampered)
	}
	o.number++
	o.plain = plain
	return nil
}

func (o *openedFile) Close() error { return o.closer.Close() }
