package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"mime"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// pngBytes is a real 8×8 PNG image.
func pngBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := 0; x < 8; x++ {
		img.Set(x, x, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pdfBytes is a small, valid PDF document.
func pdfBytes() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
		"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n" +
		"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n" +
		"trailer << /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n")
}

// download fetches a shared file and checks the headers a download must carry.
func (c *client) download(t testing.TB, path, wantName string, want []byte) {
	t.Helper()
	res := c.get(t, path).want(t, http.StatusOK)
	if !bytes.Equal(res.Body, want) {
		t.Errorf("GET %s: got %d bytes, not the %d uploaded", path, len(res.Body), len(want))
	}
	disp, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] != wantName {
		t.Errorf("GET %s: Content-Disposition %q", path, res.Header.Get("Content-Disposition"))
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("GET %s: X-Content-Type-Options %q", path, got)
	}
	sum := sha256.Sum256(want)
	if got := res.Header.Get("Digest"); got != "sha-256="+hex.EncodeToString(sum[:]) {
		t.Errorf("GET %s: Digest %q", path, got)
	}
}

// TestMainFlow walks one request from submission to close through the API, as the admin, a
// technician and the customer.
func TestMainFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()

	// The administrator sets up a company, its portal and technicians.
	company := e.createCompany(t, "Acme")
	portal := e.createPortal(t, company, "Acme support")
	alice := e.registerTechnician(t, "Alice Tech", "alice@example.com")
	bob := e.registerTechnician(t, "Bob Tech", "bob@example.com")
	e.registerTechnician(t, "Carol Outsider", "carol@example.com") // no access to Acme
	e.grant(t, alice, company)
	e.grant(t, bob, company)

	var companyView struct {
		ID      uuid.UUID `json:"id"`
		Name    string    `json:"name"`
		Portals []person  `json:"portals"`
	}
	admin.get(t, "/api/v1/admin/companies/"+company.String()).want(t, http.StatusOK).decode(t, &companyView)
	if companyView.Name != "Acme" || len(companyView.Portals) != 1 || companyView.Portals[0].ID != portal {
		t.Fatalf("company view %+v", companyView)
	}
	var companies struct{ Companies []person }
	admin.get(t, "/api/v1/admin/companies").want(t, http.StatusOK).decode(t, &companies)
	if len(companies.Companies) != 1 {
		t.Fatalf("companies %+v", companies)
	}
	var technicians struct{ Technicians []person }
	admin.get(t, "/api/v1/admin/technicians").want(t, http.StatusOK).decode(t, &technicians)
	if len(technicians.Technicians) != 3 || technicians.Technicians[0].Name != "Alice Tech" {
		t.Fatalf("technicians %+v", technicians)
	}
	var profile struct {
		Companies []uuid.UUID `json:"companies"`
	}
	admin.get(t, "/api/v1/admin/technicians/"+alice.String()).want(t, http.StatusOK).decode(t, &profile)
	if !slices.Equal(profile.Companies, []uuid.UUID{company}) {
		t.Fatalf("alice's companies %v", profile.Companies)
	}

	// Alice logs in with a bearer token and becomes Available.
	tech := e.login(t, "alice@example.com")
	tech.setAvailability(t, "available")
	var me struct {
		Availability string `json:"availability"`
	}
	tech.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
	if me.Availability != "available" {
		t.Fatalf("availability %q", me.Availability)
	}
	tech.json(t, http.MethodPut, "/api/v1/me/notifications", map[string]any{"email": true, "in_console": true, "webhook_url": "https://hooks.example.com/x"}).want(t, http.StatusOK)

	// The customer sees the portal and submits from Windows.
	var portalView struct {
		Name        string `json:"name"`
		CompanyName string `json:"company_name"`
	}
	e.anonymous().get(t, "/api/v1/portals/"+portal.String()).want(t, http.StatusOK).decode(t, &portalView)
	if portalView.Name != "Acme support" || portalView.CompanyName != "Acme" {
		t.Fatalf("portal %+v", portalView)
	}
	sub := e.submission(t, portal, uaWindows)
	if sub.Status != "new" || sub.CustomerToken == "" {
		t.Fatalf("submission %+v", sub)
	}
	id := sub.RequestID
	customer := &client{e: e, bearer: sub.CustomerToken}

	d := customer.details(t, custPath(id))
	if d.Source.IP != "127.0.0.1" || d.Source.DeviceType != "windows" || d.Source.OS != "Windows" ||
		d.Source.OSVersion != "10.0" || d.Source.Browser != "Chrome 120" {
		t.Errorf("source information %+v", d.Source)
	}
	if d.Status != "new" || d.Assignee != nil || d.CompanyName != "Acme" || d.Customer.Email != "ada@example.com" {
		t.Errorf("customer's details %+v", d)
	}

	// Carol, without access to Acme, sees nothing of it even while Available.
	carol := e.login(t, "carol@example.com")
	carol.setAvailability(t, "available")
	if p := carol.list(t, "view=all"); p.Total != 0 {
		t.Errorf("a technician without access lists %+v", p)
	}
	carol.get(t, reqPath(id)).wantErr(t, http.StatusNotFound, "not_found")
	carol.post(t, reqPath(id, "assign"), nil).wantErr(t, http.StatusNotFound, "not_found")

	// Alice sees it under New, takes it and joins.
	if p := tech.list(t, "view=new"); !p.has(id) || p.Total != 1 {
		t.Fatalf("view new: %+v", p)
	}
	d = tech.details(t, reqPath(id))
	if !slices.Contains(d.Actions, "assign") {
		t.Errorf("actions before assign: %v", d.Actions)
	}
	tech.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	if p := tech.list(t, "view=active&mine=true"); !p.has(id) || p.Requests[0].Assignee == nil || p.Requests[0].Assignee.Name != "Alice Tech" {
		t.Fatalf("view active, mine: %+v", p)
	}
	tech.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)
	d = customer.details(t, custPath(id))
	if d.Assignee == nil || d.Assignee.ID != alice || d.Assignee.Name != "Alice Tech" || d.Chat != "joined" {
		t.Errorf("the customer does not see who joined: %+v", d)
	}

	// They chat; Alice adds a private note the customer never sees.
	customer.post(t, custPath(id, "messages"), map[string]any{"body": "Hello, it smokes"}).want(t, http.StatusCreated)
	tech.post(t, reqPath(id, "messages"), map[string]any{"body": "Unplug it <now>"}).want(t, http.StatusCreated)
	tech.post(t, reqPath(id, "notes"), map[string]any{"body": "customer seems calm"}).want(t, http.StatusCreated)

	// Both share files and download each other's.
	png := pngBytes(t)
	pdf := pdfBytes()
	var up commandResult
	customer.upload(t, custPath(id, "files"), "invoice.pdf", pdf).want(t, http.StatusCreated).decode(t, &up)
	customerFile := up.ID
	tech.upload(t, reqPath(id, "files"), "diagram.png", png).want(t, http.StatusCreated).decode(t, &up)
	techFile := up.ID
	for _, c := range []struct {
		who  *client
		path string
	}{{tech, reqPath(id, "files", customerFile.String())}, {customer, custPath(id, "files", customerFile.String())}} {
		c.who.download(t, c.path, "invoice.pdf", pdf)
	}
	for _, c := range []struct {
		who  *client
		path string
	}{{tech, reqPath(id, "files", techFile.String())}, {customer, custPath(id, "files", techFile.String())}} {
		c.who.download(t, c.path, "diagram.png", png)
	}

	// Screen sharing: Alice asks, the customer accepts.
	tech.post(t, reqPath(id, "screen-sharing"), nil).want(t, http.StatusOK)
	d = customer.details(t, custPath(id))
	if d.ScreenSharing != "requested" || !slices.Contains(d.Actions, "accept_screen_sharing") {
		t.Errorf("customer after the screen-sharing request: %s %v", d.ScreenSharing, d.Actions)
	}
	customer.post(t, custPath(id, "screen-sharing/accept"), nil).want(t, http.StatusOK)

	// What each side sees of the chat.
	d = customer.details(t, custPath(id))
	kinds := map[string]int{}
	for _, en := range d.Entries {
		kinds[en.Kind]++
		if en.Kind == "note" {
			t.Error("the customer sees a private note")
		}
	}
	if kinds["message"] != 2 || kinds["file"] != 2 || d.ScreenSharing != "accepted" {
		t.Errorf("customer's chat: %v, screen sharing %s", kinds, d.ScreenSharing)
	}
	d = tech.details(t, reqPath(id))
	var sawNote bool
	for _, en := range d.Entries {
		if en.Kind == "note" && en.Body == "customer seems calm" {
			sawNote = true
		}
		if en.Kind == "message" && en.From == "technician" && en.Body != "Unplug it <now>" {
			t.Errorf("message stored as %q", en.Body)
		}
	}
	if !sawNote {
		t.Error("the technician does not see the note")
	}

	// End the chat, close; the request moves to Completed.
	tech.post(t, reqPath(id, "end-chat"), nil).want(t, http.StatusOK)
	tech.post(t, reqPath(id, "close"), nil).want(t, http.StatusOK)
	if p := tech.list(t, "view=completed"); !p.has(id) || p.Requests[0].Status != "completed" {
		t.Fatalf("view completed: %+v", p)
	}
	if p := tech.list(t, "mine=true"); p.has(id) {
		t.Error("a closed request stays in My Support Requests")
	}
	if p := tech.list(t, "view=active"); p.has(id) {
		t.Error("a closed request is listed as active")
	}
	d = tech.details(t, reqPath(id))
	if d.Status != "completed" || len(d.Actions) != 0 {
		t.Errorf("closed request: status %s, actions %v", d.Status, d.Actions)
	}

	// Nothing changes a closed request (R13): every command is 409, by anyone.
	bobClient := e.login(t, "bob@example.com")
	bobClient.setAvailability(t, "available")
	before := e.tail(t)
	closedCommands := []struct {
		who  *client
		path string
		body any
	}{
		{tech, reqPath(id, "assign"), nil},
		{bobClient, reqPath(id, "assign"), nil},
		{tech, reqPath(id, "unassign"), nil},
		{tech, reqPath(id, "transfer"), map[string]any{"technician_id": bob.String()}},
		{tech, reqPath(id, "join"), nil},
		{tech, reqPath(id, "messages"), map[string]any{"body": "still there?"}},
		{tech, reqPath(id, "notes"), map[string]any{"body": "late note"}},
		{tech, reqPath(id, "screen-sharing"), nil},
		{tech, reqPath(id, "mobile-profiles"), map[string]any{"profile": "wifi"}},
		{tech, reqPath(id, "end-chat"), nil},
		{tech, reqPath(id, "close"), nil},
		{customer, custPath(id, "messages"), map[string]any{"body": "hello?"}},
		{customer, custPath(id, "screen-sharing/accept"), nil},
		{customer, custPath(id, "screen-sharing/decline"), nil},
	}
	for _, c := range closedCommands {
		c.who.post(t, c.path, c.body).wantErr(t, http.StatusConflict, "conflict")
	}
	tech.upload(t, reqPath(id, "files"), "late.png", png).wantErr(t, http.StatusConflict, "conflict")
	customer.upload(t, custPath(id, "files"), "late.png", png).wantErr(t, http.StatusConflict, "conflict")
	e.unchanged(t, before, "commands on a closed request")

	// The history holds the whole story, verified.
	h := tech.history(t, id)
	if !h.Verified || h.RequestID != id {
		t.Errorf("history not verified: %s", h.Problem)
	}
	for _, typ := range []string{"request.submitted.v1", "request.assigned.v1", "request.chat_joined.v1", "request.note_added.v1",
		"request.screen_sharing_requested.v1", "request.screen_sharing_accepted.v1", "request.chat_ended.v1", "request.closed.v1"} {
		if countType(h, typ) != 1 {
			t.Errorf("history has %d %s", countType(h, typ), typ)
		}
	}
	if countType(h, "request.message_sent.v1") != 2 || countType(h, "request.file_shared.v1") != 2 {
		t.Errorf("history: %d messages, %d files", countType(h, "request.message_sent.v1"), countType(h, "request.file_shared.v1"))
	}
}

// TestTransferAndUnassign covers the hand-over routes: transfer to a colleague with access who
// is not offline (R4, beyond the seed), and unassign back to New (R7), also after the chat.
func TestTransferAndUnassign(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	carol := e.technician(t, "Carol Tech", w.companyA)
	dave := e.technician(t, "Dave Tech", w.companyA)
	dave.setAvailability(t, "offline")
	id, customer := w.inChat(t, uaWindows)

	before := e.tail(t)
	w.techA.post(t, reqPath(id, "transfer"), map[string]any{"technician_id": dave.id.String()}).wantErr(t, http.StatusUnprocessableEntity, "not_supported")
	carol.post(t, reqPath(id, "transfer"), map[string]any{"technician_id": carol.id.String()}).wantErr(t, http.StatusConflict, "conflict")
	e.unchanged(t, before, "refused transfers")

	w.techA.post(t, reqPath(id, "transfer"), map[string]any{"technician_id": carol.id.String()}).want(t, http.StatusOK)
	d := customer.details(t, custPath(id))
	if d.Assignee == nil || d.Assignee.ID != carol.id || d.Assignee.Name != "Carol Tech" {
		t.Fatalf("after the transfer the customer sees %+v", d.Assignee)
	}
	if p := carol.list(t, "mine=true"); !p.has(id) {
		t.Error("the transferred request is not in the new assignee's panel")
	}
	if p := w.techA.list(t, "mine=true"); p.has(id) {
		t.Error("the transferred request stays in the old assignee's panel")
	}
	w.techA.post(t, reqPath(id, "messages"), map[string]any{"body": "still mine?"}).wantErr(t, http.StatusConflict, "conflict")
	carol.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)
	carol.post(t, reqPath(id, "end-chat"), nil).want(t, http.StatusOK)

	// R7: the assignee gives it back after the chat; it is New again, for anyone to take.
	carol.post(t, reqPath(id, "unassign"), nil).want(t, http.StatusOK)
	if p := w.techA.list(t, "view=new"); !p.has(id) {
		t.Error("an unassigned request is not New again")
	}
	carol.post(t, reqPath(id, "unassign"), nil).wantErr(t, http.StatusConflict, "conflict")
	w.techA.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	if h := w.techA.history(t, id); countType(h, "request.transferred.v1") != 1 || countType(h, "request.unassigned.v1") != 1 || countType(h, "request.assigned.v1") != 2 {
		t.Errorf("history: %+v", h.Events)
	}
}
