package e2e_test

// The JSON API as the tests use it besides the browsers: a technician with a bearer token, a
// customer's submission and uploads.

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
)

// apiClient is a technician using the JSON API with a bearer token (no browser): Bob winning an
// Assign race, for example.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (s *server) apiLogin(t *testing.T, tech technician) *apiClient {
	t.Helper()
	c := &apiClient{t: t, base: s.URL + "/api/v1"}
	var out struct {
		Token string `json:"token"`
	}
	c.call(http.MethodPost, "/auth/login", map[string]string{"email": tech.Email, "password": password}, &out)
	if out.Token == "" {
		t.Fatalf("API login of %s: no token", tech.Email)
	}
	c.token = out.Token
	return c
}

// command sends a command and waits until the read models include its effect (read-your-writes
// through min_position, repeated while the API answers X-Projection-Behind: true), so that the
// pages opened next show it even on a loaded machine.
func (c *apiClient) command(method, path string, body any) {
	c.t.Helper()
	var res struct {
		Position string `json:"position"`
	}
	c.call(method, path, body, &res)
	if res.Position == "" {
		c.t.Fatalf("API %s %s: no position in the answer", method, path)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c.get("/requests?limit=1&min_position="+url.QueryEscape(res.Position)).Get("X-Projection-Behind") != "true" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("API %s %s: the read models did not reach its position within 60 s", method, path)
		}
	}
}

// get sends a GET and returns the answer's headers, failing the test unless it is a 2xx.
func (c *apiClient) get(path string) http.Header {
	c.t.Helper()
	header, _ := c.send("GET "+path, http.MethodGet, path, nil, "")
	return header
}

// send sends a request with the client's bearer token, when it has one, and returns the
// answer's headers and body, failing the test, with what in the message, unless it is a 2xx.
func (c *apiClient) send(what, method, path string, body io.Reader, contentType string) (http.Header, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("API %s: %v", what, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		c.t.Fatalf("API %s: %s: %s", what, res.Status, b)
	}
	return res.Header, b
}

// call sends a JSON request and fails the test unless the answer is a 2xx.
func (c *apiClient) call(method, path string, body, out any) {
	c.t.Helper()
	var rd io.Reader
	contentType := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(b), "application/json"
	}
	_, b := c.send(method+" "+path, method, path, rd, contentType)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("API %s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// status fetches a URL without a browser and returns its status code.
func status(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// submitted is the API's answer to a submission.
type submitted struct {
	RequestID     string `json:"request_id"`
	CustomerToken string `json:"customer_token"`
}

// apiSubmit submits a request through the JSON API as a customer of the portal.
func (s *server) apiSubmit(t *testing.T, portal uuid.UUID, name, email, description, device string) submitted {
	t.Helper()
	c := &apiClient{t: t, base: s.URL + "/api/v1"}
	var out submitted
	body := map[string]string{"customer_name": name, "customer_email": email, "description": description}
	if device != "" {
		body["device_type"] = device
	}
	c.call(http.MethodPost, "/portals/"+portal.String()+"/requests", body, &out)
	if out.RequestID == "" {
		t.Fatalf("API submission: no request_id")
	}
	return out
}

// customerAPI is the customer of a request submitted through the API.
func (s *server) customerAPI(t *testing.T, sub submitted) *apiClient {
	return &apiClient{t: t, base: s.URL + "/api/v1", token: sub.CustomerToken}
}

// upload shares a file through the API (multipart, in a part named "file").
func (c *apiClient) upload(path, name string, content []byte) {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	c.send("upload "+path, http.MethodPost, path, &body, w.FormDataContentType())
}
