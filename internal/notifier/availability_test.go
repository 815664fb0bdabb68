package notifier_test

import (
	"testing"

	"github.com/helpstream/helpstream/domain/directory"
)

// TestOnlyAvailableTechniciansAreNotified (R2, R5): a technician who is not Available does not
// see unassigned requests, so no channel calls them to a new one; they are notified again of
// the submissions after they set themselves Available.
func TestOnlyAvailableTechniciansAreNotified(t *testing.T) {
	w := newWorld(t)
	box := newMailbox(t)
	hooks := map[directory.Availability]*hook{}
	techs := map[directory.Availability]string{}
	for _, a := range []directory.Availability{directory.Available, directory.Busy, directory.Away, directory.Offline} {
		hooks[a] = newHook(t)
		id := w.technician(t, string(a), true, true, hooks[a])
		w.setAvailability(t, id, a)
		techs[a] = string(a) + "@example.com"
	}
	w.forward(t)
	cfg := w.notifierConfig(t)
	cfg.SMTPURL, cfg.SMTPTLS = box.url(), box.tls
	start(t, cfg)

	w.submit(t, "first")
	eventually(t, "the Available technician's e-mail and webhook", func() bool {
		return len(box.mails()) >= 1 && len(hooks[directory.Available].calls()) >= 1
	})
	// A second submission, handled after the first: once its notifications are out, the first
	// would have reached everyone it was going to reach.
	w.submit(t, "sentinel")
	eventually(t, "the sentinel's notifications", func() bool {
		return len(box.mails()) >= 2 && len(hooks[directory.Available].calls()) >= 2
	})
	got := countBy(box.mails(), func(m received) string { return m.To })
	if want := map[string]int{techs[directory.Available]: 2}; !equalCounts(got, want) {
		t.Errorf("e-mails by recipient = %v, want %v", got, want)
	}
	for _, a := range []directory.Availability{directory.Busy, directory.Away, directory.Offline} {
		if n := len(hooks[a].calls()); n != 0 {
			t.Errorf("the %s technician got %d webhooks", a, n)
		}
	}
	// The receipt comes just before the row is marked sent; no row for anyone else.
	eventually(t, "4 deliveries marked sent (2 requests × e-mail and webhook of one technician), nothing else", func() bool {
		got := deliveries(t, w)
		return got["sent"] == 4 && len(got) == 1
	})
}
