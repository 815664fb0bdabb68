package collation_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/helpstream/helpstream/domain/collation"
)

func TestKeysOrderNamesAsPeopleDo(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"accents and case", []string{"Åsa", "Émile", "Øystein", "zed Shaw", "Zoë"}},
		{"case does not come first", []string{"alice", "Bob", "carol", "Dave"}},
		{"empty first", []string{"", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.want)
			slices.Reverse(got)
			slices.SortStableFunc(got, func(a, b string) int { return strings.Compare(collation.Key(a), collation.Key(b)) })
			if !slices.Equal(got, tt.want) {
				t.Fatalf("sorted %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeysAreBoundedHexText(t *testing.T) {
	k := collation.Key(strings.Repeat("Ω long name ", 200))
	if len(k) > 2*collation.MaxKeyBytes {
		t.Fatalf("key of %d bytes", len(k))
	}
	if strings.Trim(k, "0123456789abcdef") != "" {
		t.Fatalf("key %q is not lower-case hex", k)
	}
	if collation.Key("Zoë") != collation.Key("zoë") {
		t.Fatal("case changed the key")
	}
}
