package httpapi_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"testing"
)

// FuzzUpload sends any bytes, with any Content-Type, as the body of a file upload, to the
// technician's or the customer's upload route of a request in chat (on Windows, or on iOS
// whose customers share images only), with valid credentials, over TCP to the server the
// route fuzzer runs: the answer is 2xx or 4xx (the handler's in the error shape), never a
// 5xx, a panic or a dropped connection.
func FuzzUpload(f *testing.F) {
	rf := newRouteFuzzer(f)
	scenes := [2]*scene{rf.newUploadScene(f, uaWindows), rf.newUploadScene(f, uaIOS)}
	upload := func(part, name string, content []byte) []byte {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.SetBoundary("fuzzb0undary")
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, part, name))
		h.Set("Content-Type", "application/octet-stream")
		p, _ := w.CreatePart(h)
		p.Write(content)
		w.Close()
		return b.Bytes()
	}
	const ct = "multipart/form-data; boundary=fuzzb0undary"
	valid := upload("file", "screenshot.png", pngFile)
	for route := range uint8(4) {
		f.Add(route, ct, valid)
		f.Add(route, ct, upload("file", "notes.txt", []byte("hello\n")))
		f.Add(route, ct, upload("file", "report.pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")))
		f.Add(route, ct, upload("file", "setup.exe", []byte("MZ\x90\x00")))
		f.Add(route, ct, upload("file", "a\x00.png", pngFile))
		f.Add(route, ct, upload("file", "\xff\xfe.png", pngFile))
		f.Add(route, ct, upload("file", `..\..\windows\evil.png`, pngFile))
		f.Add(route, ct, upload("file", "", pngFile))
		f.Add(route, ct, upload("file", "screenshot.png", nil))
		f.Add(route, ct, upload("file", "screenshot.png", []byte("not a png at all")))
		f.Add(route, ct, upload("other", "screenshot.png", pngFile))
		f.Add(route, ct, valid[:len(valid)/2])
		f.Add(route, ct, bytes.Replace(valid, []byte("--fuzzb0undary--"), []byte("--fuzzb0undary-"), 1))
		f.Add(route, ct, append(valid, valid...))
		f.Add(route, "multipart/form-data; boundary=other", valid)
		f.Add(route, "multipart/form-data", valid)
		f.Add(route, "multipart/mixed; boundary=fuzzb0undary", valid)
		f.Add(route, "application/json", []byte(`{"file":"x"}`))
		f.Add(route, "", valid)
	}
	f.Fuzz(func(t *testing.T, route uint8, contentType string, body []byte) {
		s := scenes[int(route)%2]
		req := &fuzzRequest{method: "POST", body: body, label: "an upload"}
		if route%4 < 2 {
			a := rf.techs["a"]
			req.target = reqPath(s.id, "files")
			req.header("Authorization", "Bearer "+a.Bearer)
		} else {
			req.target = custPath(s.id, "files")
			req.header("Authorization", "Bearer "+s.customer)
		}
		req.header("Content-Type", contentType)
		rf.exchange(t, req)
	})
}

// newUploadScene is a request from a browser with this User-Agent, in chat with technician a.
func (rf *routeFuzzer) newUploadScene(tb testing.TB, ua string) *scene {
	tb.Helper()
	e := rf.e
	id, customer := e.submit(tb, rf.fx.PortalA, ua)
	a := &client{e: e, bearer: rf.techs["a"].Bearer}
	a.post(tb, reqPath(id, "assign"), nil).want(tb, 200)
	a.post(tb, reqPath(id, "join"), nil).want(tb, 200)
	return &scene{id: id, customer: customer.bearer}
}
