package text_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/helpstream/helpstream/domain/text"
)

func TestRules(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		line      error // want from Line; nil means accepted
		multiline error
		header    error
		at        int
	}{
		{"plain ASCII", "Ada Lovelace", nil, nil, nil, 0},
		{"accents and emoji", "Zoë Åsa Øystein 🙂", nil, nil, text.ErrInvalidUTF8, 3},
		{"a real U+FFFD", "a\uFFFDb", nil, nil, text.ErrInvalidUTF8, 2},
		{"empty", "", nil, nil, nil, 0},
		{"NUL", "ab\x00c", text.ErrNUL, text.ErrNUL, text.ErrNUL, 3},
		{"NUL after multi-byte", "éé\x00", text.ErrNUL, text.ErrNUL, text.ErrInvalidUTF8, 3},
		{"invalid byte", "ab\xffc", text.ErrInvalidUTF8, text.ErrInvalidUTF8, text.ErrInvalidUTF8, 3},
		{"truncated sequence", "ab\xc3", text.ErrInvalidUTF8, text.ErrInvalidUTF8, text.ErrInvalidUTF8, 3},
		{"surrogate half", "a\xed\xa0\x80", text.ErrInvalidUTF8, text.ErrInvalidUTF8, text.ErrInvalidUTF8, 2},
		{"newline", "line one\nline two", text.ErrControl, nil, text.ErrControl, 9},
		{"tab and CR", "a\tb\r\n", text.ErrControl, nil, text.ErrControl, 2},
		{"escape", "a\x1b[31m", text.ErrControl, text.ErrControl, text.ErrControl, 2},
		{"DEL", "a\x7f", text.ErrControl, text.ErrControl, text.ErrControl, 2},
		{"C1 control", "a\u0085b", text.ErrControl, text.ErrControl, text.ErrInvalidUTF8, 2},
		{"header token", "3f1c-req-42 retry", nil, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rule := range []struct {
				name string
				fn   func(string) error
				want error
			}{{"Line", text.Line, tt.line}, {"Multiline", text.Multiline, tt.multiline}, {"Header", text.Header, tt.header}} {
				err := rule.fn(tt.in)
				if !errors.Is(err, rule.want) || (err == nil) != (rule.want == nil) {
					t.Errorf("%s(%q) = %v, want %v", rule.name, tt.in, err, rule.want)
					continue
				}
				var te *text.Error
				if rule.want != nil && rule.name != "Header" && errors.As(err, &te) && te.At != tt.at {
					t.Errorf("%s(%q) at character %d, want %d", rule.name, tt.in, te.At, tt.at)
				}
			}
		})
	}
}

func TestErrorSaysWhatAndWhere(t *testing.T) {
	err := text.Multiline("hello\x00world")
	if got := err.Error(); !strings.Contains(got, "NUL") || !strings.Contains(got, "U+0000") || !strings.Contains(got, "character 6") {
		t.Errorf("message %q does not say what and where", got)
	}
	err = text.Line("caf\xe9")
	if got := err.Error(); !strings.Contains(got, "not valid UTF-8") || !strings.Contains(got, "character 4") {
		t.Errorf("message %q does not say what and where", got)
	}
}

func TestBounded(t *testing.T) {
	errName := errors.New("name must be 1 to 3 characters")
	tests := []struct {
		name     string
		in       string
		rule     func(string) error
		wantRule error // the rule's error the answer wraps; nil when the length is what failed
		ok       bool
	}{
		{"one character", "a", text.Line, nil, true},
		{"max characters", "abc", text.Line, nil, true},
		{"max multi-byte characters", "日本語", text.Line, nil, true},
		{"empty", "", text.Line, nil, false},
		{"over max", "abcd", text.Line, nil, false},
		{"over max multi-byte", "日本語日", text.Line, nil, false},
		{"line refuses a newline", "a\nb", text.Line, text.ErrControl, false},
		{"multiline takes a newline", "a\nb", text.Multiline, nil, true},
		{"rule before length", "\xff\xff\xff\xff", text.Line, text.ErrInvalidUTF8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := text.Bounded(tt.in, 3, tt.rule, errName)
			if tt.ok {
				if err != nil {
					t.Fatalf("Bounded(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if !errors.Is(err, errName) {
				t.Fatalf("Bounded(%q) = %v, want the caller's error", tt.in, err)
			}
			var te *text.Error
			if gotRule := errors.As(err, &te); gotRule != (tt.wantRule != nil) || (gotRule && !errors.Is(err, tt.wantRule)) {
				t.Fatalf("Bounded(%q) = %v, want it to wrap %v", tt.in, err, tt.wantRule)
			}
		})
	}
}

// FuzzRules holds the rule to its promise: what it accepts is valid UTF-8 without NUL (what
// PostgreSQL text columns store), and Line accepts nothing Multiline refuses.
func FuzzRules(f *testing.F) {
	for _, s := range []string{"", "Ada", "a\x00b", "\xff", "é\n", "\u0085", "a\tb\r\n", "🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, rule := range []func(string) error{text.Line, text.Multiline, text.Header} {
			if rule(s) == nil && (!utf8.ValidString(s) || strings.ContainsRune(s, 0)) {
				t.Fatalf("accepted %q, which PostgreSQL cannot store", s)
			}
		}
		if text.Line(s) == nil && text.Multiline(s) != nil {
			t.Fatalf("Line accepts %q but Multiline refuses it", s)
		}
		if text.Header(s) == nil && text.Line(s) != nil {
			t.Fatalf("Header accepts %q but Line refuses it", s)
		}
	})
}

func BenchmarkMultilineASCII(b *testing.B) {
	msg := strings.Repeat("My printer is on fire, please help. ", 30)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := text.Multiline(msg); err != nil {
			b.Fatal(err)
		}
	}
}
