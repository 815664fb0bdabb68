package projections_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/projections"
)

var textCases = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"ascii", "printer on fire", "printer on fire"},
	{"multi-line", "line 1\r\n\tline 2", "line 1\r\n\tline 2"},
	{"accents and emoji", "Ça ne démarre plus 🙃", "Ça ne démarre plus 🙃"},
	{"symbol for null as given", "a␀b", "a␀b"},
	{"nul", "a\x00b", "a␀b"},
	{"nul only", "\x00", "␀"},
	{"nuls at both ends", "\x00x\x00", "␀x␀"},
	{"invalid byte", "caf\xe9", `caf\xE9`},
	{"lone continuation byte", "\x80", `\x80`},
	{"truncated sequence", "ok \xe2\x82", `ok \xE2\x82`},
	{"surrogate half encoded", "\xed\xa0\x80", `\xED\xA0\x80`},
	{"beyond U+10FFFF", "\xf4\x90\x80\x80", `\xF4\x90\x80\x80`},
	{"overlong NUL", "\xc0\x80", `\xC0\x80`},
	{"valid around invalid", "é\xffé", `é\xFFé`},
	{"nul and invalid", "\x00\xff", `␀\xFF`},
	{"replacement character as given", "\uFFFD", "\uFFFD"},
}

func TestText(t *testing.T) {
	for _, c := range textCases {
		t.Run(c.name, func(t *testing.T) {
			got := projections.Text(c.in)
			if got != c.want {
				t.Fatalf("Text(%q) = %q, want %q", c.in, got, c.want)
			}
			if again := projections.Text(got); again != got {
				t.Fatalf("Text is not idempotent: Text(%q) = %q", got, again)
			}
		})
	}
}

func TestTextPtr(t *testing.T) {
	clean := "clean"
	if got := projections.TextPtr(&clean); got != &clean {
		t.Fatalf("TextPtr of clean text returned another pointer (%q)", *got)
	}
	dirty := "a\x00"
	if got := projections.TextPtr(&dirty); got == nil || *got != "a␀" || dirty != "a\x00" {
		t.Fatalf("TextPtr(%q) = %v; the original is now %q", "a\x00", got, dirty)
	}
	if projections.TextPtr(nil) != nil {
		t.Fatal("TextPtr(nil) is not nil")
	}
}

// Valid text without NUL is the common case, for every string of every row a projector writes:
// it costs no allocation.
func TestTextCleanDoesNotAllocate(t *testing.T) {
	clean := strings.Repeat("Ça ne démarre plus, l'écran reste noir. ", 40)
	var sink string
	if n := testing.AllocsPerRun(100, func() { sink = projections.Text(clean) }); n != 0 {
		t.Fatalf("Text of clean text allocates %.1f times per call", n)
	}
	if sink != clean {
		t.Fatal("clean text changed")
	}
}

// What read models write is accepted by PostgreSQL, as parameters and through COPY (the bulk
// load of a rebuild), and reads back as it was written: every form Text gives, and UUIDs,
// NULL for uuid.Nil.
func TestValuesStoredByPostgreSQL(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	t.Run("text", func(t *testing.T) {
		if _, err := pool.Exec(ctx, `CREATE TABLE texts (i int PRIMARY KEY, via text NOT NULL, body text NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		var rows [][]any
		for i, c := range textCases {
			if _, err := pool.Exec(ctx, `INSERT INTO texts VALUES ($1, 'param', $2)`, i, projections.Text(c.in)); err != nil {
				t.Fatalf("%s: insert: %v", c.name, err)
			}
			rows = append(rows, []any{len(textCases) + i, "copy", projections.Text(c.in)})
		}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"texts"}, []string{"i", "via", "body"}, pgx.CopyFromRows(rows)); err != nil {
			t.Fatalf("copy: %v", err)
		}
		for i, c := range textCases {
			for _, at := range []int{i, len(textCases) + i} {
				var got string
				if err := pool.QueryRow(ctx, `SELECT body FROM texts WHERE i = $1`, at).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%s: stored %q, want %q", c.name, got, c.want)
				}
			}
		}
		// What Text protects against: without it, PostgreSQL refuses the row.
		if _, err := pool.Exec(ctx, `INSERT INTO texts VALUES (-1, 'param', $1)`, "a\x00b"); err == nil {
			t.Fatal("PostgreSQL stored a NUL: the test no longer shows why Text exists")
		}
	})
	t.Run("uuid", func(t *testing.T) {
		a, b := uuid.New(), uuid.New()
		var gotA, gotNull *uuid.UUID
		var gotAll []uuid.UUID
		err := pool.QueryRow(ctx, `SELECT $1::uuid, $2::uuid, $3::uuid[]`,
			projections.UUID(a), projections.NullUUID(uuid.Nil), projections.UUIDs([]uuid.UUID{a, b})).Scan(&gotA, &gotNull, &gotAll)
		if err != nil {
			t.Fatal(err)
		}
		if gotA == nil || *gotA != a || gotNull != nil || len(gotAll) != 2 || gotAll[0] != a || gotAll[1] != b {
			t.Fatalf("got %v, %v, %v; want %v, NULL, [%v %v]", gotA, gotNull, gotAll, a, a, b)
		}
		if _, err := pool.Exec(ctx, `CREATE TABLE t (id uuid PRIMARY KEY, other uuid)`); err != nil {
			t.Fatal(err)
		}
		var copied int64
		if copied, err = pool.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id", "other"},
			pgx.CopyFromRows([][]any{{projections.UUID(a), projections.NullUUID(b)}, {projections.UUID(b), projections.NullUUID(uuid.Nil)}})); err != nil || copied != 2 {
			t.Fatalf("COPY: %d rows, %v", copied, err)
		}
		var nulls int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM t WHERE other IS NULL AND id = $1`, projections.UUID(b)).Scan(&nulls); err != nil || nulls != 1 {
			t.Fatalf("COPY wrote %d NULL rows for %v (%v)", nulls, b, err)
		}
	})
}

func FuzzText(f *testing.F) {
	for _, c := range textCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := projections.Text(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q: not valid UTF-8", s, got)
		}
		if strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("Text(%q) = %q: holds NUL", s, got)
		}
		if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && got != s {
			t.Fatalf("Text changed clean text %q into %q", s, got)
		}
		if again := projections.Text(got); again != got {
			t.Fatalf("Text is not idempotent: %q, then %q", got, again)
		}
		if len(got) < len(s) {
			t.Fatalf("Text(%q) = %q dropped bytes", s, got)
		}
	})
}

func BenchmarkText(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"clean", strings.Repeat("Ça ne démarre plus, l'écran reste noir. ", 10)},
		{"nul", strings.Repeat("Ça ne démarre plus,\x00 l'écran reste noir. ", 10)},
		{"invalid", strings.Repeat("Ca ne d\xe9marre plus, l'\xe9cran reste noir. ", 10)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				_ = projections.Text(bc.in)
			}
		})
	}
}
