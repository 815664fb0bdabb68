// Package architecture_test holds the module's import rules as a test: every package of the
// module, as `go list` sees it, imports only what its layer may (README, "Architecture";
// docs/architecture.md). Test files are free: a test may put any parts together.
package architecture_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/helpstream/helpstream/"

// kernel is the infrastructure every layer may use: fault episodes, sessions beside a pool,
// leader election, the runtime of the log's checkpointed subscribers, client hints. It sits just
// above the domain.
var kernel = []string{"internal/fault", "internal/dbsession", "internal/leader", "internal/subscriber", "internal/clientinfo"}

// rules says, for each layer (the first prefix that matches a package), which of the module's
// packages it may import, lowest layer first. cmd may import anything.
var rules = []struct {
	layer   string
	mayUse  []string
	because string
}{
	{"domain/", []string{"domain/"}, "the domain knows nothing but itself"},
	{"internal/fault", []string{"domain/"}, "the kernel sits on the domain alone"},
	{"internal/clientinfo", []string{"domain/"}, "the kernel sits on the domain alone"},
	{"internal/dbsession", []string{"domain/"}, "the kernel sits on the domain alone"},
	{"internal/leader", []string{"domain/", "internal/fault", "internal/dbsession"}, "the kernel sits on the domain alone"},
	{"internal/subscriber", []string{"domain/", "internal/fault", "internal/dbsession", "internal/leader"}, "the subscriber runtime knows no consumer: projections and adapters plug into it"},
	{"internal/app", append([]string{"domain/"}, kernel...), "the application layer owns its ports and knows no adapter, no read model"},
	{"internal/anchor", []string{"domain/"}, "anchors sign the log through the event-store port: they know the domain alone"},
	{"internal/verify", append([]string{"domain/", "internal/anchor"}, kernel...), "an audit reads the log through the port and folds it through the domain; read models plug in through its own interface"},
	{"projections", append([]string{"domain/", "projections"}, kernel...), "read models fold events into tables: domain and pgx, no application, no adapter"},
	{"internal/timeline", append([]string{"domain/", "internal/app"}, kernel...), "a request's history folds its stream through the domain, read through the event-store port"},
	{"internal/analytics", append([]string{"domain/"}, kernel...), "the analytics job folds the stream's events through the domain's types into its own tables; brokers and the log reach it through Watermill and the event-store port, opened by cmd"},
	{"internal/asof", append([]string{"domain/", "internal/app"}, kernel...), "point-in-time views fold the log through the port and answer the application's read-model ports: no adapter, no read model"},
	{"internal/process", append([]string{"domain/"}, kernel...), "the process managers' timers and outbox sit on the subscriber runtime and know no manager"},
	{"internal/routing", append([]string{"domain/", "internal/app", "internal/process"}, kernel...), "a process manager decides on the log in its own tables and acts through the application's commands: no adapter, no read model"},
	{"internal/servicelevel", append([]string{"domain/", "internal/app", "internal/process"}, kernel...), "a process manager decides on the log in its own tables and acts through the application's commands: no adapter, no read model"},
	{"internal/privacy", append([]string{"domain/", "internal/app"}, kernel...), "personal data's keys sit in their own tables; it seals and opens events through the domain's types and decorates the application's file-store port: no adapter, no read model"},
	{"internal/retention", append([]string{"domain/", "internal/process"}, kernel...), "a process manager decides on the log in its own tables; the erasures it decides are carried out by a function the composition root hands it: no adapter, no read model"},
	{"adapters/web/chart", nil, "charts draw numbers and labels as SVG: they know nothing of the module"},
	{"internal/notifier", append([]string{"domain/"}, kernel...), "the notifier is a Watermill consumer of the stream: it reads events and the directory's tables as data and sends through SMTP and HTTP libraries, and knows no adapter, no application, no read model's code"},
	{"adapters/", append([]string{"domain/", "internal/app", "internal/timeline", "projections", "adapters/"}, kernel...), "adapters implement the ports; only cmd puts them together"},
	{"internal/service", append([]string{"domain/", "internal/app", "internal/asof", "internal/anchor", "internal/notifier", "internal/process", "internal/routing", "internal/servicelevel", "internal/privacy", "internal/retention", "internal/service", "projections", "adapters/"}, kernel...), "the composition root puts the parts together for cmd and tests; nothing but them imports it"},
	{"cmd/", []string{""}, "the binary parses flags into the composition root's Config"},
	{"internal/architecture", nil, "this test imports nothing of the module"},
}

func TestImportsRunDownTheLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	packages := 0
	for _, line := range strings.Split(string(bytes.TrimSpace(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		packages++
		rule := -1
		for i, r := range rules {
			if strings.HasPrefix(pkg, r.layer) {
				rule = i
				break
			}
		}
		if rule < 0 {
			t.Errorf("%s belongs to no layer: add it to the rules", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if strings.HasPrefix(dep, "cmd/") && !strings.HasPrefix(pkg, "cmd/") {
				t.Errorf("%s imports %s: nothing but the binary imports cmd", pkg, dep)
				continue
			}
			if strings.HasPrefix(dep, "internal/service") && !strings.HasPrefix(pkg, "cmd/") && !strings.HasPrefix(pkg, "internal/service") {
				t.Errorf("%s imports %s: only the binary imports the composition root", pkg, dep)
				continue
			}
			allowed := false
			for _, prefix := range rules[rule].mayUse {
				if strings.HasPrefix(dep, prefix) {
					allowed = true
					break
				}
			}
			if !allowed {
				t.Errorf("%s imports %s: %s", pkg, dep, rules[rule].because)
			}
		}
	}
	if packages < 20 {
		t.Fatalf("go list named %d packages of the module; the rules checked too little", packages)
	}
}
