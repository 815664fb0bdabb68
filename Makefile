# Helpstream: the two commands of the README, and a few more.
.PHONY: run demo test bench build vet

GO ?= go

# Run the server with demo data on the local PostgreSQL.
demo:
	$(GO) run ./cmd/helpstream serve --demo

# Every test, against the real PostgreSQL on 127.0.0.1:5432. The browser tests (adapters/web/e2e)
# need Chromium: installed here when missing (as root; apt-get).
test:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	$(GO) vet ./...
	@# Says in one line whether the KurrentDB contract suite ran (HELPSTREAM_KURRENTDB_URL) or was skipped.
	@$(GO) test -count=1 -run '^TestContract$$' -v ./adapters/eventstore/kurrent/ | grep -E 'KurrentDB|^--- |^(ok|FAIL)'
	$(GO) test -count=1 -timeout 15m ./...

# The design §7 benchmarks: appends and whole commands beside pgbench.
bench:
	$(GO) run ./cmd/helpstream bench
	$(GO) test -run '^$$' -bench . -benchtime 5s ./adapters/eventstore/postgres/

build:
	$(GO) build -o bin/helpstream ./cmd/helpstream
