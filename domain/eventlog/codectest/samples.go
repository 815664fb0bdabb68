package codectest

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/domain/servicelevel"
)

// SampleID1 is the first ID the samples carry, fixed so that a test can spell out what an event
// that carries it encodes to.
var SampleID1 = uuid.MustParse("11111111-1111-1111-1111-111111111111")

func sampleIDs() (id1, id2, id3 uuid.UUID) {
	return SampleID1, uuid.MustParse("22222222-2222-2222-2222-222222222222"), uuid.MustParse("33333333-3333-3333-3333-333333333333")
}

// RequestSamples is one filled-in example of every request event (both sides of a message and
// of a shared file), with text that JSON has to escape.
func RequestSamples() []eventlog.Event {
	id1, id2, id3 := sampleIDs()
	return []eventlog.Event{
		&request.Submitted{RequestID: id1, CompanyID: id2, PortalID: id3,
			Customer:    request.Customer{Name: "Zoë \"Z\" <O'Neil>", Email: "zoe@example.com"},
			Description: "Line 1\nLine 2 — ünïcödé \u2028 and \\ backslash",
			Source:      request.Source{IP: "2001:db8::1", Platform: request.Android, OS: "Android", OSVersion: "14", Browser: "Chrome"}},
		&request.Assigned{TechnicianID: id1},
		&request.Unassigned{TechnicianID: id1},
		&request.Unassigned{TechnicianID: id1, Reason: "away_limit: Tess was Away 10m0s with 1 unanswered request"},
		&request.Transferred{From: id1, To: id2},
		&request.ChatJoined{TechnicianID: id2},
		&request.MessageSent{MessageID: id3, From: request.TechnicianSide, TechnicianID: id2, Body: "<b>hi</b>"},
		&request.MessageSent{MessageID: id3, From: request.CustomerSide, Body: "hello"},
		&request.NoteAdded{NoteID: id3, TechnicianID: id2, Body: "note"},
		&request.FileShared{FileID: id3, From: request.CustomerSide, Name: "a b.png", Size: 1 << 40, ContentType: "image/png", SHA256: strings.Repeat("ab", 32)},
		&request.FileShared{FileID: id3, From: request.TechnicianSide, TechnicianID: id2, Name: "guide.pdf", Size: 1, ContentType: "application/pdf", SHA256: strings.Repeat("0", 64)},
		&request.ScreenSharingRequested{TechnicianID: id2},
		&request.ScreenSharingAccepted{},
		&request.ScreenSharingDeclined{},
		&request.MobileProfileSent{TechnicianID: id2, Profile: "VPN"},
		&request.ScreenSharingSessionStarted{SessionID: id3, Link: "https://meet.example/a%20b?s=1&t=<x>"},
		&request.MobileProfileFileSent{TechnicianID: id2, Template: "Wi-Fi <corp> & \"guests\"", Platform: request.Android, Version: 2},
		&request.ScreenSharingSessionEnded{SessionID: id3, TechnicianID: id2, Reason: request.SessionEndedByTechnician},
		&request.ChatEnded{TechnicianID: id2},
		&request.Closed{TechnicianID: id2},
		&request.SLABreached{Target: "first_reply", DueAt: time.Date(2026, 3, 29, 1, 30, 0, 123456789, time.UTC), TargetSeconds: 3600},
	}
}

// ServiceLevelSamples is one filled-in example of every service-level event.
func ServiceLevelSamples() []eventlog.Event {
	id1, _, _ := sampleIDs()
	return []eventlog.Event{
		&servicelevel.TargetsSet{CompanyID: id1, AssignSeconds: 900, ResolutionSeconds: 28800,
			BusinessHours: []servicelevel.OpeningData{{Day: "mon", From: "09:00", To: "17:00"}, {Day: "sun", From: "00:00", To: "24:00"}}},
	}
}

// RetentionSamples is one filled-in example of every retention event.
func RetentionSamples() []eventlog.Event {
	id1, _, _ := sampleIDs()
	return []eventlog.Event{
		&retention.PolicySet{CompanyID: id1, EraseAfterDays: 30},
	}
}

// DirectorySamples is one filled-in example of every company, technician and auditor event
// (both shapes of an auditor's grant and revocation).
func DirectorySamples() []eventlog.Event {
	id1, id2, id3 := sampleIDs()
	return []eventlog.Event{
		&directory.CompanyCreated{CompanyID: id1, Name: "Acme"},
		&directory.PortalCreated{CompanyID: id1, PortalID: id2, Name: "Help"},
		&directory.TechnicianRegistered{TechnicianID: id3, Name: "Tess", Email: "tess@example.com"},
		&directory.AccessGranted{TechnicianID: id3, CompanyID: id1},
		&directory.AccessRevoked{TechnicianID: id3, CompanyID: id1},
		&directory.AvailabilityChanged{TechnicianID: id3, Availability: directory.Busy},
		&directory.NotificationSettingsChanged{TechnicianID: id3, Email: true, Webhook: true},
		&directory.NotificationSettingsChanged{TechnicianID: id3, InConsole: true},
		&directory.PasswordChanged{TechnicianID: id3},
		&directory.AuditorRegistered{AuditorID: id2, Name: "Ann \"Audit\" <O'Neil>", Email: "ann@example.com"},
		&directory.AuditorAccessGranted{AuditorID: id2, CompanyID: id1},
		&directory.AuditorAccessGranted{AuditorID: id2, AllCompanies: true},
		&directory.AuditorAccessRevoked{AuditorID: id2, CompanyID: id1},
		&directory.AuditorAccessRevoked{AuditorID: id2, AllCompanies: true},
		&directory.AuditorPasswordChanged{AuditorID: id2},
	}
}
