package servicelevel

import "time"

// maxDaysAhead bounds the calendar's walk: a target of MaxTarget with one business minute a
// week still ends within it.
const maxDaysAhead = 366 * 60 * 7

// window is one opening as instants.
type window struct{ open, close time.Time }

// windows calls f with each opening of the local day start falls on and of the days after, as
// instants in loc, until f returns false. A wall-clock time a DST change skips is read as
// time.Date reads it (02:30 on a spring-forward night is 03:30); an opening spanning the change
// lasts the real time between its ends.
func (h Hours) windows(start time.Time, loc *time.Location, f func(window) bool) {
	local := start.In(loc)
	y, m, d := local.Date()
	for i := range maxDaysAhead {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc) // noon exists every day
		for _, o := range h.days[day.Weekday()] {
			w := window{
				open:  at(day, o.From, loc),
				close: at(day, o.To, loc),
			}
			if !f(w) {
				return
			}
		}
	}
}

func at(day time.Time, c Clock, loc *time.Location) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, int(c)/60, int(c)%60, 0, 0, loc)
}

// Due returns when a clock started at start has run d of business time: start plus d counted in
// the open hours only, in loc (the company's time zone). Always-open hours count every
// instant: start + d. A start outside the hours waits for the next opening.
func (h Hours) Due(start time.Time, d time.Duration, loc *time.Location) time.Time {
	if h.AlwaysOpen() || d <= 0 {
		return start.Add(max(d, 0))
	}
	if loc == nil {
		loc = time.UTC
	}
	left, due := d, time.Time{}
	h.windows(start, loc, func(w window) bool {
		open := w.open
		if start.After(open) {
			open = start
		}
		if !w.close.After(open) {
			return true
		}
		if avail := w.close.Sub(open); left > avail {
			left -= avail
			return true
		}
		due = open.Add(left)
		return false
	})
	if due.IsZero() { // beyond the walk: cannot happen with validated goals and hours
		return start.Add(d)
	}
	return due
}

// Elapsed returns the business time between from and to, in loc: the time within the open
// hours (all of it for always-open hours). It is zero when to is not after from.
func (h Hours) Elapsed(from, to time.Time, loc *time.Location) time.Duration {
	if !to.After(from) {
		return 0
	}
	if h.AlwaysOpen() {
		return to.Sub(from)
	}
	if loc == nil {
		loc = time.UTC
	}
	var total time.Duration
	h.windows(from, loc, func(w window) bool {
		if !w.open.Before(to) {
			return false
		}
		open, close := w.open, w.close
		if from.After(open) {
			open = from
		}
		if to.Before(close) {
			close = to
		}
		if close.After(open) {
			total += close.Sub(open)
		}
		return true
	})
	return total
}
