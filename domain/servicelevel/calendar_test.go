package servicelevel_test

import (
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/servicelevel"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func hours(t *testing.T, spec ...string) servicelevel.Hours {
	t.Helper()
	var openings []servicelevel.Opening
	for _, s := range spec {
		o, err := servicelevel.ParseOpening(s)
		if err != nil {
			t.Fatalf("ParseOpening(%q): %v", s, err)
		}
		openings = append(openings, o)
	}
	h, err := servicelevel.NewHours(openings)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var weekdays = []string{"mon 09:00-17:00", "tue 09:00-17:00", "wed 09:00-17:00", "thu 09:00-17:00", "fri 09:00-17:00"}

func TestDue(t *testing.T) {
	paris, ny := zone(t, "Europe/Paris"), zone(t, "America/New_York")
	office := hours(t, weekdays...)
	splitDay := hours(t, "mon 09:00-12:00", "mon 14:00-18:00")
	sundays := hours(t, "sun 00:00-24:00")
	nySundayNight := hours(t, "sun 00:00-04:00")
	local := func(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, loc)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		hours servicelevel.Hours
		loc   *time.Location
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		// 2026-01-05 is a Monday.
		{"within the day", office, paris, local(paris, 2026, 1, 5, 10, 0), 2 * time.Hour, local(paris, 2026, 1, 5, 12, 0)},
		{"ends at closing", office, paris, local(paris, 2026, 1, 5, 15, 0), 2 * time.Hour, local(paris, 2026, 1, 5, 17, 0)},
		{"overnight", office, paris, local(paris, 2026, 1, 5, 16, 0), 2 * time.Hour, local(paris, 2026, 1, 6, 10, 0)},
		{"over the weekend", office, paris, local(paris, 2026, 1, 9, 16, 0), 2 * time.Hour, local(paris, 2026, 1, 12, 10, 0)},
		{"start before opening", office, paris, local(paris, 2026, 1, 5, 7, 0), time.Hour, local(paris, 2026, 1, 5, 10, 0)},
		{"start after closing", office, paris, local(paris, 2026, 1, 5, 20, 0), time.Hour, local(paris, 2026, 1, 6, 10, 0)},
		{"start on a Saturday", office, paris, local(paris, 2026, 1, 10, 12, 0), 30 * time.Minute, local(paris, 2026, 1, 12, 9, 30)},
		{"a full week of business time", office, paris, local(paris, 2026, 1, 5, 9, 0), 40 * time.Hour, local(paris, 2026, 1, 9, 17, 0)},
		{"lunch break skipped", splitDay, paris, local(paris, 2026, 1, 5, 11, 0), 2 * time.Hour, local(paris, 2026, 1, 5, 15, 0)},
		{"next week's opening", splitDay, paris, local(paris, 2026, 1, 5, 17, 0), 2 * time.Hour, local(paris, 2026, 1, 12, 10, 0)},
		{"24/7 without hours", servicelevel.Hours{}, paris, local(paris, 2026, 3, 28, 23, 0), 5 * time.Hour, local(paris, 2026, 3, 28, 23, 0).Add(5 * time.Hour)},
		{"24/7 in seconds", servicelevel.Hours{}, time.UTC, utc("2026-01-05T10:00:00Z"), 3 * time.Second, utc("2026-01-05T10:00:03Z")},
		// Paris springs forward on 2026-03-29 at 02:00 (to 03:00): that Sunday is 23 hours long.
		{"Paris spring-forward, weekdays", office, paris, local(paris, 2026, 3, 27, 16, 0), 2 * time.Hour, utc("2026-03-30T08:00:00Z")},
		{"Paris spring-forward, within the short day", sundays, paris, local(paris, 2026, 3, 29, 0, 0), 3 * time.Hour, local(paris, 2026, 3, 29, 4, 0)},
		{"Paris spring-forward, the short day is 23 h", sundays, paris, local(paris, 2026, 3, 29, 0, 0), 23*time.Hour + 30*time.Minute, local(paris, 2026, 4, 5, 0, 30)},
		// Paris falls back on 2026-10-25 at 03:00 (to 02:00): that Sunday is 25 hours long.
		{"Paris fall-back, weekdays", office, paris, local(paris, 2026, 10, 23, 16, 0), 2 * time.Hour, utc("2026-10-26T09:00:00Z")},
		{"Paris fall-back, within the long day", sundays, paris, local(paris, 2026, 10, 25, 0, 0), 3 * time.Hour, utc("2026-10-25T01:00:00Z")},
		{"Paris fall-back, the long day is 25 h", sundays, paris, local(paris, 2026, 10, 25, 0, 0), 24*time.Hour + 30*time.Minute, utc("2026-10-25T22:30:00Z")},
		// New York springs forward on 2026-03-08 and falls back on 2026-11-01, at 02:00.
		{"New York spring-forward, weekdays", office, ny, local(ny, 2026, 3, 6, 16, 0), 2 * time.Hour, utc("2026-03-09T14:00:00Z")},
		{"New York spring-forward, a night opening is an hour shorter", nySundayNight, ny, local(ny, 2026, 3, 8, 0, 0), 3*time.Hour + 30*time.Minute, utc("2026-03-15T04:30:00Z")},
		{"New York fall-back, weekdays", office, ny, local(ny, 2026, 10, 30, 16, 0), 2 * time.Hour, utc("2026-11-02T15:00:00Z")},
		{"New York fall-back, a night opening is an hour longer", nySundayNight, ny, local(ny, 2026, 11, 1, 0, 0), 4*time.Hour + 30*time.Minute, utc("2026-11-01T08:30:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.hours.Due(tt.start, tt.d, tt.loc)
			if !got.Equal(tt.want) {
				t.Fatalf("Due(%s, %s) = %s, want %s", tt.start, tt.d, got.In(tt.loc), tt.want.In(tt.loc))
			}
			// What Due counts, Elapsed measures back.
			if back := tt.hours.Elapsed(tt.start, got, tt.loc); back != tt.d {
				t.Fatalf("Elapsed(start, Due) = %s, want %s", back, tt.d)
			}
		})
	}
}

func TestElapsed(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	office := hours(t, weekdays...)
	sundays := hours(t, "sun 00:00-24:00")
	local := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, paris) }
	tests := []struct {
		name     string
		hours    servicelevel.Hours
		from, to time.Time
		want     time.Duration
	}{
		{"within the day", office, local(2026, 1, 5, 10, 0), local(2026, 1, 5, 11, 15), 75 * time.Minute},
		{"overnight", office, local(2026, 1, 5, 16, 0), local(2026, 1, 6, 10, 0), 2 * time.Hour},
		{"over the weekend", office, local(2026, 1, 9, 16, 0), local(2026, 1, 12, 10, 0), 2 * time.Hour},
		{"all outside the hours", office, local(2026, 1, 10, 8, 0), local(2026, 1, 11, 20, 0), 0},
		{"backwards is zero", office, local(2026, 1, 6, 10, 0), local(2026, 1, 5, 10, 0), 0},
		{"24/7", servicelevel.Hours{}, local(2026, 3, 28, 12, 0), local(2026, 3, 29, 12, 0), 23 * time.Hour},
		{"the spring-forward Sunday", sundays, local(2026, 3, 29, 0, 0), local(2026, 3, 30, 0, 0), 23 * time.Hour},
		{"the fall-back Sunday", sundays, local(2026, 10, 25, 0, 0), local(2026, 10, 26, 0, 0), 25 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.hours.Elapsed(tt.from, tt.to, paris); got != tt.want {
				t.Fatalf("Elapsed = %s, want %s", got, tt.want)
			}
		})
	}
}
