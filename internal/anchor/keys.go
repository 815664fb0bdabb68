package anchor

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotEd25519Key is returned for a key that is not an Ed25519 key of the right size.
var ErrNotEd25519Key = errors.New("not an Ed25519 key")

// ErrKeyFileOpen is returned by LoadPrivateKey for a private key file that others than its
// owner may read or write: the key that makes anchors trustworthy must stay the server's.
var ErrKeyFileOpen = errors.New("the private key file is open to others than its owner")

// Names of the files GenerateKeyFiles writes.
const (
	PrivateKeyFile = "anchor-key.pem"
	PublicKeyFile  = "anchor-key.pub.pem"
)

// KeyFiles is what GenerateKeyFiles wrote.
type KeyFiles struct {
	// PrivateKey is the private key's file (PKCS #8 PEM, mode 0600): the server's, never in
	// the log, never given to auditors.
	PrivateKey string
	// PublicKey is the public key's file (PKIX PEM), for auditors.
	PublicKey string
	// Public is the public key; FormatPublicKey prints it on one line, Fingerprint names it.
	Public ed25519.PublicKey
}

// GenerateKeyFiles makes a new Ed25519 key pair and writes it into dir (created if missing,
// mode 0700), as PrivateKeyFile (mode 0600) and PublicKeyFile (mode 0644). It never overwrites
// a key: when either file exists, it writes nothing and fails.
func GenerateKeyFiles(dir string) (KeyFiles, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return KeyFiles{}, fmt.Errorf("generate an Ed25519 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return KeyFiles{}, fmt.Errorf("encode the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return KeyFiles{}, fmt.Errorf("encode the public key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return KeyFiles{}, fmt.Errorf("key directory: %w", err)
	}
	files := KeyFiles{PrivateKey: filepath.Join(dir, PrivateKeyFile), PublicKey: filepath.Join(dir, PublicKeyFile), Public: pub}
	for _, path := range []string{files.PrivateKey, files.PublicKey} {
		if _, err := os.Lstat(path); err == nil {
			return KeyFiles{}, fmt.Errorf("%s exists already: %w (move it away to make a new key)", path, os.ErrExist)
		}
	}
	if err := writeNew(files.PrivateKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return KeyFiles{}, err
	}
	if err := writeNew(files.PublicKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		_ = os.Remove(files.PrivateKey) // half a key pair is none
		return KeyFiles{}, err
	}
	return files, nil
}

// writeNew writes a file that must not exist yet, with mode perm whatever the umask.
func writeNew(path string, content []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// LoadPrivateKey reads a private key file written by GenerateKeyFiles (or any PKCS #8 PEM
// Ed25519 key, as `openssl genpkey -algorithm ed25519` writes). It refuses a file that others
// than its owner may read or write (ErrKeyFileOpen).
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if mode := info.Mode().Perm(); mode&0o077 != 0 {
		return nil, fmt.Errorf("%s: %w (mode %04o): chmod 600 it", path, ErrKeyFileOpen, mode)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	block, _ := pem.Decode(content)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: %w: no PEM PRIVATE KEY block", path, ErrNotEd25519Key)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrNotEd25519Key, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: %w: a %T", path, ErrNotEd25519Key, key)
	}
	return priv, nil
}

// LoadPublicKey reads a public key from a file, in any form ParsePublicKey reads.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pub, err := ParsePublicKey(string(content))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

// publicPrefix starts the one-line form of a public key.
const publicPrefix = "ed25519:"

// FormatPublicKey renders a public key on one line, "ed25519:<base64>", the form an auditor
// copies and ParsePublicKey reads.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return publicPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a public key in the one-line form of FormatPublicKey, as a PEM PUBLIC
// KEY block (the file GenerateKeyFiles writes, or `openssl pkey -pubout`), or as the bare
// base64 of its 32 bytes.
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	text = strings.TrimSpace(text)
	if block, _ := pem.Decode([]byte(text)); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%w: a PEM %s block", ErrNotEd25519Key, block.Type)
		}
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotEd25519Key, err)
		}
		pub, ok := key.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: a %T", ErrNotEd25519Key, key)
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(text, publicPrefix))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: want %q followed by the base64 of 32 bytes, or a PEM PUBLIC KEY block", ErrNotEd25519Key, publicPrefix)
	}
	return ed25519.PublicKey(raw), nil
}

// Fingerprint names a public key, "SHA256:<base64>" of its bytes as OpenSSH prints
// fingerprints: what an anchor records of the key that signed it, and what an auditor compares
// with the key they were given.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}
