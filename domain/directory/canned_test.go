package directory_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/codectest"
	"github.com/helpstream/helpstream/domain/text"
)

func acmeWithCanned(t *testing.T) (*directory.Company, uuid.UUID) {
	t.Helper()
	c, err := directory.CreateCompany(uuid.New(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	greeting := uuid.New()
	if err := c.SaveCannedResponse(greeting, "Greeting", "Hello {customer_name}, I am looking at request {request_id}."); err != nil {
		t.Fatal(err)
	}
	return c, greeting
}

func TestSaveCannedResponse(t *testing.T) {
	long := strings.Repeat("é", directory.MaxCannedBodyLength)
	for _, tc := range []struct {
		name        string
		id          func(greeting uuid.UUID) uuid.UUID
		title, body string
		want        error
		recorded    bool
	}{
		{"a new one", func(uuid.UUID) uuid.UUID { return uuid.New() }, "Reboot", "Please restart your computer.", nil, true},
		{"trimmed", func(uuid.UUID) uuid.UUID { return uuid.New() }, "  Reboot  ", "\n Please restart.\n", nil, true},
		{"replace the body", func(g uuid.UUID) uuid.UUID { return g }, "Greeting", "Hi {customer_name}!", nil, true},
		{"rename", func(g uuid.UUID) uuid.UUID { return g }, "Hello", "Hello {customer_name}, I am looking at request {request_id}.", nil, true},
		{"the same again", func(g uuid.UUID) uuid.UUID { return g }, "Greeting", "Hello {customer_name}, I am looking at request {request_id}.", nil, false},
		{"the longest body", func(uuid.UUID) uuid.UUID { return uuid.New() }, "Long", long, nil, true},
		{"another's title", func(uuid.UUID) uuid.UUID { return uuid.New() }, "greeting", "Hi", directory.ErrCannedTitleTaken, false},
		{"no ID", func(uuid.UUID) uuid.UUID { return uuid.Nil }, "Reboot", "Restart.", directory.ErrMissingID, false},
		{"empty title", func(uuid.UUID) uuid.UUID { return uuid.New() }, " ", "Restart.", directory.ErrInvalidCannedTitle, false},
		{"two-line title", func(uuid.UUID) uuid.UUID { return uuid.New() }, "Re\nboot", "Restart.", directory.ErrInvalidCannedTitle, false},
		{"title too long", func(uuid.UUID) uuid.UUID { return uuid.New() }, strings.Repeat("t", 101), "Restart.", directory.ErrInvalidCannedTitle, false},
		{"empty body", func(uuid.UUID) uuid.UUID { return uuid.New() }, "Reboot", "\n\t ", directory.ErrInvalidCannedBody, false},
		{"body too long", func(uuid.UUID) uuid.UUID { return uuid.New() }, "Reboot", long + "x", directory.ErrInvalidCannedBody, false},
		{"NUL in the body", func(uuid.UUID) uuid.UUID { return uuid.New() }, "Reboot", "Re\x00start", text.ErrNUL, false},
		{"invalid UTF-8", func(uuid.UUID) uuid.UUID { return uuid.New() }, "Re\xffboot", "Restart", text.ErrInvalidUTF8, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, greeting := acmeWithCanned(t)
			before := len(c.Changes())
			err := c.SaveCannedResponse(tc.id(greeting), tc.title, tc.body)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("SaveCannedResponse = %v, want %v", err, tc.want)
			}
			if got := len(c.Changes()) - before; got != map[bool]int{true: 1, false: 0}[tc.recorded] {
				t.Fatalf("recorded %d events", got)
			}
			// Whatever was recorded folds back, and an auditor's Admit takes it.
			admitted := &directory.Company{}
			for _, e := range c.Changes() {
				if err := admitted.Admit(e); err != nil {
					t.Fatalf("Admit(%s): %v", e.EventType(), err)
				}
			}
			if got, want := len(admitted.CannedResponses()), len(c.CannedResponses()); got != want {
				t.Fatalf("admitted %d responses, the company has %d", got, want)
			}
		})
	}
}

func TestCannedResponsesStayByTitle(t *testing.T) {
	c, greeting := acmeWithCanned(t)
	for _, title := range []string{"zebra", "Apple", "mango"} {
		if err := c.SaveCannedResponse(uuid.New(), title, "body of "+title); err != nil {
			t.Fatal(err)
		}
	}
	var titles []string
	for _, r := range c.CannedResponses() {
		titles = append(titles, r.Title)
	}
	if got := strings.Join(titles, ","); got != "Apple,Greeting,mango,zebra" {
		t.Fatalf("order %s", got)
	}
	if err := c.RemoveCannedResponse(greeting); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.CannedResponse(greeting); ok {
		t.Fatal("removed but still there")
	}
	if err := c.RemoveCannedResponse(greeting); !errors.Is(err, directory.ErrUnknownCannedResponse) {
		t.Fatalf("removed twice: %v", err)
	}
	again, err := directory.CompanyFromHistory(c.Changes())
	if err != nil || len(again.CannedResponses()) != 3 {
		t.Fatalf("from history: %v, %d", err, len(again.CannedResponses()))
	}
	// The title of a removed one is free again.
	if err := again.SaveCannedResponse(uuid.New(), "GREETING", "Hi"); err != nil {
		t.Fatal(err)
	}
}

func TestCannedResponsesAreBounded(t *testing.T) {
	c, _ := acmeWithCanned(t)
	for i := 1; i < directory.MaxCannedResponses; i++ {
		if err := c.SaveCannedResponse(uuid.New(), "r"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+uuid.NewString()[:8], "b"); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := c.SaveCannedResponse(uuid.New(), "one too many", "b"); !errors.Is(err, directory.ErrTooManyCanned) {
		t.Fatalf("the 201st: %v", err)
	}
}

func TestAdmitRefusesImpossibleCannedResponses(t *testing.T) {
	id, resp := uuid.New(), uuid.New()
	created := &directory.CompanyCreated{CompanyID: id, Name: "Acme"}
	saved := &directory.CannedResponseSaved{CompanyID: id, ResponseID: resp, Title: "Greeting", Body: "Hello"}
	for name, history := range map[string][]eventlog.Event{
		"another company's":     {created, &directory.CannedResponseSaved{CompanyID: uuid.New(), ResponseID: resp, Title: "Greeting", Body: "Hello"}},
		"untrimmed":             {created, &directory.CannedResponseSaved{CompanyID: id, ResponseID: resp, Title: " Greeting", Body: "Hello"}},
		"a NUL":                 {created, &directory.CannedResponseSaved{CompanyID: id, ResponseID: resp, Title: "Greeting", Body: "He\x00llo"}},
		"saved twice the same":  {created, saved, saved},
		"a title taken":         {created, saved, &directory.CannedResponseSaved{CompanyID: id, ResponseID: uuid.New(), Title: "greeting", Body: "Hi"}},
		"removed, never saved":  {created, &directory.CannedResponseRemoved{CompanyID: id, ResponseID: resp}},
		"before the company":    {saved},
		"removed by another co": {created, saved, &directory.CannedResponseRemoved{CompanyID: uuid.New(), ResponseID: resp}},
	} {
		t.Run(name, func(t *testing.T) {
			c := &directory.Company{}
			var err error
			for _, e := range history {
				if err = c.Admit(e); err != nil {
					break
				}
			}
			if !errors.Is(err, directory.ErrImpossibleEvent) {
				t.Errorf("Admit = %v, want ErrImpossibleEvent", err)
			}
		})
	}
}

func TestRenderCannedResponse(t *testing.T) {
	req := uuid.MustParse("7d9f3c1e-0000-4000-8000-000000000001")
	values := directory.CannedValues{CustomerName: "Zoë Ö'Brien", RequestID: req, TechnicianName: "Alice Martin", Company: "Acme Corp"}
	for _, tc := range []struct{ body, want string }{
		{"Hello {customer_name}!", "Hello Zoë Ö'Brien!"},
		{"Ref {request_id}.", "Ref 7d9f3c1e-0000-4000-8000-000000000001."},
		{"{technician_name} from {company}", "Alice Martin from Acme Corp"},
		{"{customer_name}{customer_name}", "Zoë Ö'BrienZoë Ö'Brien"},
		{"{unknown} and {customer name} stay", "{unknown} and {customer name} stay"},
		{"{{customer_name}}", "{Zoë Ö'Brien}"},
		{"{CUSTOMER_NAME} is case-sensitive", "{CUSTOMER_NAME} is case-sensitive"},
		{"no placeholder", "no placeholder"},
		{"un {customer_name", "un {customer_name"},
	} {
		if got := directory.RenderCannedResponse(tc.body, values); got != tc.want {
			t.Errorf("Render(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
	// A value holding a placeholder is not expanded again.
	if got := directory.RenderCannedResponse("{customer_name}", directory.CannedValues{CustomerName: "{request_id}"}); got != "{request_id}" {
		t.Errorf("a value was expanded again: %q", got)
	}
}

func TestCannedWireFormat(t *testing.T) {
	codectest.CheckWireFormat(t, directory.Codec(), []codectest.Wire{
		{Event: &directory.CannedResponseSaved{CompanyID: companyID, ResponseID: uuid.MustParse("00000000-0000-0000-0000-0000000000d1"), Title: "Greeting", Body: "Hello {customer_name}"},
			Type: "company.canned_response_saved.v1",
			JSON: `{"company_id":"00000000-0000-0000-0000-0000000000c1","response_id":"00000000-0000-0000-0000-0000000000d1","title":"Greeting","body":"Hello {customer_name}"}`},
		{Event: &directory.CannedResponseRemoved{CompanyID: companyID, ResponseID: uuid.MustParse("00000000-0000-0000-0000-0000000000d1")},
			Type: "company.canned_response_removed.v1",
			JSON: `{"company_id":"00000000-0000-0000-0000-0000000000c1","response_id":"00000000-0000-0000-0000-0000000000d1"}`},
	}, 2)
}
