package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/service"
)

// storeFlags are the flags of the stores and the application that every command opening
// them shares; config turns them into the service's Config.
type storeFlags struct {
	databaseURL  *string
	eventStore   *string
	filesDir     *string
	maxFileSize  *int64
	cacheStreams *int
	cacheBytes   *int64
	conflictWait *time.Duration
	authCache    *time.Duration
	masterKey    *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		databaseURL:  fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL for projections and secrets, and the default event store (env DATABASE_URL)"),
		eventStore:   eventStoreFlag(fs),
		filesDir:     fs.String("files-dir", envOr("HELPSTREAM_FILES_DIR", "data/files"), "directory for shared files (env HELPSTREAM_FILES_DIR)"),
		maxFileSize:  fs.Int64("max-file-size", app.DefaultMaxFileSize, "largest file a chat accepts, in bytes"),
		cacheStreams: fs.Int("cache-streams", app.DefaultCachedStreams, "streams (requests, technicians, companies) whose state commands keep in memory between commands, least recently used out first; -1 keeps none"),
		cacheBytes:   fs.Int64("cache-bytes", app.DefaultCachedBytes, "bytes those cached states may take, roughly; -1 keeps none"),
		authCache:    fs.Duration("auth-cache", app.DefaultAuthCacheTTL, "how long a session or customer token looked up is trusted before the database is asked again; sessions ended on another server stop working here within it; 0 asks every time"),
		masterKey:    masterKeyFlag(fs),
		conflictWait: fs.Duration("conflict-wait", app.DefaultConflictWait, "how long a command keeps deciding again after other processes wrote to its streams first, before answering 409 (a request's own deadline, when shorter, wins)"),
	}
}

// config is the service's Config the flags say; it reads the master key.
func (f storeFlags) config() (service.Config, error) {
	authCache := *f.authCache
	if authCache == 0 {
		authCache = -1 // the flag's 0 asks every time; the Config's 0 takes the default
	}
	master, err := readMasterKey(*f.masterKey)
	if err != nil {
		return service.Config{}, err
	}
	return service.Config{
		DatabaseURL: *f.databaseURL, EventStoreURL: *f.eventStore, FilesDir: *f.filesDir,
		MaxFileSize: *f.maxFileSize, CachedStreams: *f.cacheStreams, CachedBytes: *f.cacheBytes,
		ConflictWait: *f.conflictWait, AuthCache: authCache, MasterKey: master,
	}, nil
}

// masterKeyFlag is --master-key-file, shared by every command that reads or writes events.
func masterKeyFlag(fs *flag.FlagSet) *string {
	return fs.String("master-key-file", "", "file holding the master key (standard base64 of 32 random bytes) that wraps the customers' data keys: personal fields of request events are sealed at append and opened on read; when empty, the key is HELPSTREAM_MASTER_KEY's value, and without either nothing is sealed (with serve --demo, "+demoMasterKeyFile+" beside --files-dir, made on first use)")
}

// readMasterKey returns the master key's text from file, or else from HELPSTREAM_MASTER_KEY;
// "" when neither is set.
func readMasterKey(file string) (string, error) {
	if file == "" {
		key := os.Getenv("HELPSTREAM_MASTER_KEY")
		if key == "" {
			return "", nil
		}
		if _, err := privacy.ParseMasterKey(key); err != nil {
			return "", fmt.Errorf("HELPSTREAM_MASTER_KEY: %w", err)
		}
		return key, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--master-key-file: %w", err)
	}
	if _, err := privacy.ParseMasterKey(string(b)); err != nil {
		return "", fmt.Errorf("--master-key-file %s: %w", file, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// demoMasterKeyFile is the demo's master key with the default --files-dir.
const demoMasterKeyFile = "data/master.key"

// demoMasterKey returns the demo's master key file beside the files directory, making it the
// first time (readable by its owner only).
func demoMasterKey(out io.Writer, filesDir string) (string, error) {
	path := filepath.Join(filepath.Dir(filepath.Clean(filesDir)), "master.key")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := writeMasterKey(path); err != nil {
		return "", fmt.Errorf("make the demo's master key: %w", err)
	}
	fmt.Fprintf(out, "Made the demo's master key (it wraps the customers' data keys: keep a copy, apart from the database's backups): %s\n", path)
	return path, nil
}
