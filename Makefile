# Helpstream: the two commands of the README, and a few more.
.PHONY: run demo test fuzz bench build vet

GO ?= go

# Run the server with demo data on the local PostgreSQL.
demo:
	$(GO) run ./cmd/helpstream serve --demo

# Every test, against the real PostgreSQL on 127.0.0.1:5432. The browser tests (adapters/web/e2e)
# need Chromium, and npm for axe-core: installed here when missing (as root; apt-get).
test:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	@# npm installs the pinned axe-core of the accessibility checks (adapters/web/e2e/testdata/axe).
	command -v npm >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm)
	$(GO) vet ./...
	@# Says in one line whether the KurrentDB contract suite ran (HELPSTREAM_KURRENTDB_URL) or was skipped.
	@$(GO) test -count=1 -run '^TestContract$$' -v ./adapters/eventstore/kurrent/ | grep -E 'KurrentDB|^--- |^(ok|FAIL)'
	$(GO) test -count=1 -timeout 15m ./...
	@$(MAKE) --no-print-directory fuzz

# Every fuzz target (each func FuzzXxx of a _test.go file) fuzzed for FUZZTIME, one target per
# go test (-fuzz takes one); `go test ./...` has run their seed corpora already (the f.Add seeds
# and testdata/fuzz/FuzzXxx/). A failing input is written to the package's testdata/fuzz/FuzzXxx/
# and fails the run once every target has had its turn. -fuzzminimizetime 0x: minimizing each new
# input would spend the budget of the targets whose inputs take milliseconds (FuzzRoutes, the web
# forms), and a failing input reproduces as found. go1.26's fuzzing coordinator can end a clean
# run with a bare "context deadline exceeded" and no failing input (golang/go#75804, fixed in
# go1.27): that outcome alone is reported and not counted as a failure.
# The corpus the fuzzer keeps in GOCACHE between runs is cleared first: on a machine that has
# fuzzed before, replaying hundreds of cached inputs as the baseline took most of a target's
# time (69 s for FuzzDecodeBody's 10 s), and CI's budget is the same on every machine.
FUZZTIME ?= 10s
fuzz:
	$(GO) clean -fuzzcache
	@grep -rHoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . | sort | \
	sed -E 's|^\./(.+)/[^/]+:func (Fuzz[A-Za-z0-9_]+)\($$|\1 \2|' | { \
	  failed=""; \
	  while read -r pkg name; do \
	    log=$$(mktemp); start=$$(date +%s); \
	    if $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 0x -parallel 2 "./$$pkg/" >"$$log" 2>&1; then \
	      echo "fuzz ./$$pkg $$name: ok, $$(grep -oE 'execs: [0-9]+' "$$log" | tail -n 1 | cut -d' ' -f2) inputs in $$(( $$(date +%s) - start )) s"; \
	    elif grep -qE 'Failing input written|failure while testing seed corpus|^panic:' "$$log" || \
	        ! grep -A1 -- "^--- FAIL: $$name " "$$log" | tail -n 1 | grep -qx '    context deadline exceeded'; then \
	      grep -v 'INFO migration applied' "$$log"; \
	      echo "fuzz ./$$pkg $$name: FAILED"; failed="$$failed ./$$pkg:$$name"; \
	    else \
	      echo "fuzz ./$$pkg $$name: ok, but go1.26's coordinator ended it with a bare \"context deadline exceeded\" (golang/go#75804)"; \
	    fi; \
	    rm -f "$$log"; \
	  done; \
	  if [ -n "$$failed" ]; then echo "fuzz targets that failed:$$failed"; exit 1; fi; \
	}

# The design §7 benchmarks: appends and whole commands beside pgbench.
bench:
	$(GO) run ./cmd/helpstream bench
	$(GO) test -run '^$$' -bench . -benchtime 5s ./adapters/eventstore/postgres/

build:
	$(GO) build -o bin/helpstream ./cmd/helpstream
