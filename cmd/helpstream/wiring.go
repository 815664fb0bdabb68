package main

import (
	"flag"
	"time"

	"github.com/helpstream/helpstream/internal/app"
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
		conflictWait: fs.Duration("conflict-wait", app.DefaultConflictWait, "how long a command keeps deciding again after other processes wrote to its streams first, before answering 409 (a request's own deadline, when shorter, wins)"),
	}
}

// config is the service's Config the flags say.
func (f storeFlags) config() service.Config {
	authCache := *f.authCache
	if authCache == 0 {
		authCache = -1 // the flag's 0 asks every time; the Config's 0 takes the default
	}
	return service.Config{
		DatabaseURL: *f.databaseURL, EventStoreURL: *f.eventStore, FilesDir: *f.filesDir,
		MaxFileSize: *f.maxFileSize, CachedStreams: *f.cacheStreams, CachedBytes: *f.cacheBytes,
		ConflictWait: *f.conflictWait, AuthCache: authCache,
	}
}
