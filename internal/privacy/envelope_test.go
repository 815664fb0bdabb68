package privacy_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/privacy"
)

func TestParseEnvelope(t *testing.T) {
	id := uuid.MustParse("6e302145-848e-4c19-a957-e367e1d3225c")
	sealed := make([]byte, 12+16+5)
	for i := range sealed {
		sealed[i] = byte(i)
	}
	good := privacy.Envelope{KeyID: id, Sealed: sealed}.String()
	if !strings.HasPrefix(good, "enc:v1:"+id.String()+":") || !privacy.IsEnvelope(good) {
		t.Fatalf("envelope text %q", good)
	}
	e, err := privacy.ParseEnvelope(good)
	if err != nil || e.KeyID != id || string(e.Sealed) != string(sealed) {
		t.Fatalf("round trip: %+v, %v", e, err)
	}
	body := base64.RawStdEncoding.EncodeToString(sealed)
	for _, bad := range []string{
		"", "Ada Lovelace", "[erased]", "enc:v1:", "enc:v1:" + id.String(), "enc:v2:" + id.String() + ":" + body,
		"enc:v1:not-a-uuid:" + body, "enc:v1:{" + id.String() + "}:" + body, "enc:v1:" + strings.ReplaceAll(id.String(), "-", "") + ":" + body,
		"enc:v1:" + id.String() + ":" + body + "==", "enc:v1:" + id.String() + ":" + body + "!", "enc:v1:" + id.String() + ":AAAA",
		"enc:v1:" + id.String() + ":" + body[:10] + "\r\n" + body[10:], "enc:v1:" + id.String() + ":" + body + "\n",
	} {
		if _, err := privacy.ParseEnvelope(bad); !errors.Is(err, privacy.ErrNotEnvelope) {
			t.Errorf("ParseEnvelope(%q) = %v, want ErrNotEnvelope", bad, err)
		}
	}
}

// FuzzParseEnvelope: any text either fails with ErrNotEnvelope or reads back to itself.
func FuzzParseEnvelope(f *testing.F) {
	f.Add("enc:v1:6e302145-848e-4c19-a957-e367e1d3225c:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g")
	f.Add("enc:v1:")
	f.Add("[erased]")
	f.Add("enc:v1:6e302145-848e-4c19-a957-e367e1d3225c:")
	f.Fuzz(func(t *testing.T, s string) {
		e, err := privacy.ParseEnvelope(s)
		if err != nil {
			if !errors.Is(err, privacy.ErrNotEnvelope) {
				t.Fatalf("ParseEnvelope(%q): %v is not ErrNotEnvelope", s, err)
			}
			return
		}
		if e.String() != s {
			t.Fatalf("ParseEnvelope(%q) writes back as %q", s, e.String())
		}
		if !privacy.IsEnvelope(s) || len(e.Sealed) < 28 {
			t.Fatalf("ParseEnvelope(%q) accepted %+v", s, e)
		}
	})
}

func TestParseMasterKey(t *testing.T) {
	text, err := privacy.NewMasterKeyText()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(text)
	for _, ok := range []string{text, " " + text + "\n", base64.RawStdEncoding.EncodeToString(raw)} {
		if _, err := privacy.ParseMasterKey(ok); err != nil {
			t.Errorf("ParseMasterKey(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(raw[:16]), base64.StdEncoding.EncodeToString(append(raw, 0))} {
		if _, err := privacy.ParseMasterKey(bad); !errors.Is(err, privacy.ErrBadMasterKey) {
			t.Errorf("ParseMasterKey(%q) = %v, want ErrBadMasterKey", bad, err)
		}
	}
}
