// Package chart draws the console's charts as inline SVG on the server: no script, nothing
// fetched, nothing the page's Content-Security-Policy refuses (colours come from CSS classes the
// stylesheet defines, never from style attributes). Every chart is an image with a title and a
// description (role="img"); the page puts the same numbers in a table beside it, for people
// who do not see the chart.
//
// Every text a chart draws (its title, labels, series names) is escaped here; a value that is
// not a finite number counts as no value, so that no coordinate is ever NaN or infinite.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
)

// Unit is what a chart's values measure: it picks the axis' steps and how ticks read.
type Unit int

const (
	// Count values are whole numbers of things (requests): ticks 0, 1, 2, 5, 10…
	Count Unit = iota
	// Seconds values are durations in seconds: ticks fall on whole seconds, minutes, hours.
	Seconds
)

// Series is one set of values a chart draws, one value per category.
type Series struct {
	// Name is the series' name in the legend and in each mark's tooltip.
	Name string
	// Class is the CSS class of its marks (the stylesheet gives its colour); only the letters
	// a–z, digits and '-' are kept.
	Class string
	// Values holds one value per category of the chart; a NaN (or anything not finite) is no
	// value: no bar, a gap in a line. Negative values count as zero.
	Values []float64
}

// Chart is what every kind of chart draws.
type Chart struct {
	// ID prefixes the ids of the chart's title and description (aria-labelledby); only the
	// letters a–z, digits and '-' are kept.
	ID string
	// Title and Desc name and describe the chart for assistive technology.
	Title, Desc string
	// Categories label the values: days along the x axis, or names down the y axis.
	Categories []string
	Series     []Series
	Unit       Unit
}

// Geometry of the column charts (stacked bars and lines), in viewBox units: the SVG scales to
// the width of its box.
const (
	width        = 760.0
	height       = 280.0
	marginLeft   = 70.0
	marginRight  = 16.0
	marginTop    = 34.0 // the legend
	marginBottom = 40.0 // the x labels
	maxXLabels   = 10
)

// plotWidth and plotHeight are the area the marks are drawn in.
const (
	plotWidth  = width - marginLeft - marginRight
	plotHeight = height - marginTop - marginBottom
)

// StackedBars draws a column per category whose series stack on each other: requests per day
// by outcome.
func StackedBars(c Chart) template.HTML {
	n := len(c.Categories)
	totals := make([]float64, n)
	for _, s := range c.Series {
		for i := range n {
			totals[i] += value(s, i)
		}
	}
	top, step := axis(maxOf(totals), c.Unit)
	var b strings.Builder
	open(&b, c, width, height)
	yAxis(&b, top, step, c.Unit)
	slot := plotWidth / float64(max(n, 1))
	barWidth := slot * 0.8
	for i := range n {
		base := 0.0
		for _, s := range c.Series {
			v := value(s, i)
			if v == 0 {
				continue
			}
			y0, y1 := yOf(base, top), yOf(base+v, top)
			fmt.Fprintf(&b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s"><title>%s: %s %s</title></rect>`,
				class(s.Class), num(marginLeft+float64(i)*slot+(slot-barWidth)/2), num(y1), num(barWidth), num(y0-y1),
				esc(c.Categories[i]), esc(s.Name), esc(format(v, c.Unit)))
			base += v
		}
	}
	xLabels(&b, c.Categories, slot)
	closeChart(&b, c, n == 0 || maxOf(totals) == 0)
	return template.HTML(b.String())
}

// Lines draws a line per series across the categories, with a dot on each value: medians and
// 90th percentiles per day. A missing value breaks the line.
func Lines(c Chart) template.HTML {
	n := len(c.Categories)
	highest := 0.0
	for _, s := range c.Series {
		for i := range n {
			highest = math.Max(highest, value(s, i))
		}
	}
	top, step := axis(highest, c.Unit)
	var b strings.Builder
	open(&b, c, width, height)
	yAxis(&b, top, step, c.Unit)
	slot := plotWidth / float64(max(n, 1))
	drawn := false
	for _, s := range c.Series {
		var points []string
		flush := func() {
			if len(points) > 1 {
				fmt.Fprintf(&b, `<polyline class="line %s" fill="none" points="%s"/>`, class(s.Class), strings.Join(points, " "))
			}
			points = points[:0]
		}
		for i := range n {
			v, ok := present(s, i)
			if !ok {
				flush()
				continue
			}
			drawn = true
			points = append(points, num(marginLeft+(float64(i)+0.5)*slot)+","+num(yOf(v, top)))
		}
		flush()
		for i := range n {
			if v, ok := present(s, i); ok {
				fmt.Fprintf(&b, `<circle class="dot %s" cx="%s" cy="%s" r="3"><title>%s: %s %s</title></circle>`,
					class(s.Class), num(marginLeft+(float64(i)+0.5)*slot), num(yOf(v, top)),
					esc(c.Categories[i]), esc(s.Name), esc(format(v, c.Unit)))
			}
		}
	}
	xLabels(&b, c.Categories, slot)
	closeChart(&b, c, !drawn)
	return template.HTML(b.String())
}

// Geometry of the bar charts: a row of bars per category, one bar per series.
const (
	barLabelWidth = 180.0
	barHeight     = 9.0
	rowGap        = 10.0
	maxLabelRunes = 26
)

// Bars draws a group of horizontal bars per category, one per series: the figures of each
// company or technician.
func Bars(c Chart) template.HTML {
	n := len(c.Categories)
	highest := 0.0
	for _, s := range c.Series {
		for i := range n {
			highest = math.Max(highest, value(s, i))
		}
	}
	rowHeight := barHeight*float64(max(len(c.Series), 1)) + rowGap
	h := marginTop + rowHeight*float64(max(n, 1)) + 28
	top, step := axis(highest, c.Unit)
	plot := width - barLabelWidth - marginRight - 24 // room for the last tick's label
	xOf := func(v float64) float64 { return barLabelWidth + v/top*plot }
	var b strings.Builder
	open(&b, c, width, h)
	// The value axis, at the bottom, with a grid line per tick.
	bottom := marginTop + rowHeight*float64(max(n, 1))
	for _, v := range ticks(top, step) {
		x := xOf(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x), num(marginTop), num(x), num(bottom))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x), num(bottom+16), esc(tick(v, c.Unit)))
	}
	for i := range n {
		y := marginTop + float64(i)*rowHeight
		fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="end">%s<title>%s</title></text>`,
			num(barLabelWidth-6), num(y+rowHeight/2), esc(shorten(c.Categories[i])), esc(c.Categories[i]))
		for j, s := range c.Series {
			v, ok := present(s, i)
			if !ok || v == 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s"><title>%s: %s %s</title></rect>`,
				class(s.Class), num(barLabelWidth), num(y+rowGap/2+float64(j)*barHeight), num(xOf(v)-barLabelWidth), num(barHeight-1),
				esc(c.Categories[i]), esc(s.Name), esc(format(v, c.Unit)))
		}
	}
	closeChart(&b, c, n == 0 || highest == 0)
	return template.HTML(b.String())
}

// open starts the SVG: its size, its role, its title and description, and the legend.
func open(b *strings.Builder, c Chart, w, h float64) {
	id := class(c.ID)
	fmt.Fprintf(b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title %s-desc" preserveAspectRatio="xMinYMin meet">`,
		num(w), num(h), id, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(c.Title), id, esc(c.Desc))
	x := marginLeft
	for _, s := range c.Series {
		fmt.Fprintf(b, `<rect class="%s" x="%s" y="10" width="12" height="12"/><text class="legend" x="%s" y="20">%s</text>`,
			class(s.Class), num(x), num(x+16), esc(s.Name))
		x += 16 + 7.5*float64(len([]rune(s.Name))) + 18
	}
}

// closeChart ends the SVG, saying so across the plot when there is nothing to draw.
func closeChart(b *strings.Builder, c Chart, empty bool) {
	if empty {
		fmt.Fprintf(b, `<text class="empty-chart" x="%s" y="%s" text-anchor="middle">No data for this period</text>`,
			num(marginLeft+plotWidth/2), num(marginTop+plotHeight/2))
	}
	b.WriteString(`</svg>`)
}

// yAxis draws the value axis of a column chart: a grid line and a label per tick.
func yAxis(b *strings.Builder, top, step float64, u Unit) {
	for _, v := range ticks(top, step) {
		y := yOf(v, top)
		fmt.Fprintf(b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(marginLeft), num(y), num(width-marginRight), num(y))
		fmt.Fprintf(b, `<text class="tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(marginLeft-6), num(y+4), esc(tick(v, u)))
	}
}

// xLabels labels at most maxXLabels categories, evenly spread, the first always.
func xLabels(b *strings.Builder, categories []string, slot float64) {
	every := (len(categories) + maxXLabels - 1) / maxXLabels
	for i := 0; i < len(categories); i += max(every, 1) {
		fmt.Fprintf(b, `<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>`,
			num(marginLeft+(float64(i)+0.5)*slot), num(height-marginBottom+18), esc(categories[i]))
	}
}

// ticks are the values of an axis' ticks, 0 to top by step (a few dozen at most, whatever
// rounding does to huge values).
func ticks(top, step float64) []float64 {
	var out []float64
	for k := 0; k <= 40 && float64(k)*step <= top*1.0000001; k++ {
		out = append(out, float64(k)*step)
	}
	return out
}

func yOf(v, top float64) float64 { return marginTop + plotHeight - v/top*plotHeight }

// value is series s's value at i, zero when it has none.
func value(s Series, i int) float64 {
	v, _ := present(s, i)
	return v
}

// present is series s's value at i, and whether it has one (a finite number); negative values
// count as zero, and values beyond the largest float a chart can scale count as that.
func present(s Series, i int) (float64, bool) {
	if i >= len(s.Values) || math.IsNaN(s.Values[i]) || math.IsInf(s.Values[i], 0) {
		return 0, false
	}
	return math.Min(math.Max(s.Values[i], 0), maxValue), true
}

// maxSeconds bounds a duration a tooltip writes (a century), inside what a Duration holds.
const maxSeconds = 100 * 365 * 86400

// maxValue bounds what a chart scales: past it a nice step would not be finite.
const maxValue = 1e300

func maxOf(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		m = math.Max(m, v)
	}
	return m
}

// axis returns the top of a value axis that holds highest, and the step of its ticks: about
// four steps of a "nice" size (1, 2 or 5 × 10ⁿ for counts; whole seconds, minutes or hours for
// durations). An axis of nothing goes up to one step.
func axis(highest float64, u Unit) (top, step float64) {
	highest = math.Min(highest, math.MaxFloat64/16) // stacks of clamped values stay finite
	if u == Seconds {
		for _, s := range secondSteps {
			if highest <= 4*s {
				return stepsFor(highest, s), s
			}
		}
		step = niceStep(highest/4/86400) * 86400 // days
		return stepsFor(highest, step), step
	}
	step = math.Max(niceStep(highest/4), 1) // whole requests
	return stepsFor(highest, step), step
}

// secondSteps are the tick steps of a duration axis up to a day.
var secondSteps = []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400}

// stepsFor is the top of an axis of steps of size step that holds highest: at least one step.
func stepsFor(highest, step float64) float64 {
	return math.Max(math.Ceil(highest/step), 1) * step
}

// niceStep is the smallest 1, 2 or 5 × 10ⁿ at or above raw.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// tick writes an axis label: a count, or a duration in its largest unit.
func tick(v float64, u Unit) string {
	if u == Seconds {
		d := time.Duration(v * float64(time.Second))
		switch {
		case v >= 86400:
			return trim(v/86400) + " d"
		case d >= time.Hour:
			return trim(v/3600) + " h"
		case d >= time.Minute:
			return trim(v/60) + " min"
		}
		return trim(v) + " s"
	}
	return trim(v)
}

// format writes a value in a mark's tooltip: a count, or a duration as Duration writes it.
func format(v float64, u Unit) string {
	if u == Seconds {
		return Duration(time.Duration(math.Min(v, maxSeconds) * float64(time.Second)))
	}
	return trim(v)
}

// trim writes a number without a trailing ".0", in plain digits up to a trillion and in
// scientific notation beyond.
func trim(v float64) string {
	if v >= 1e12 {
		return fmt.Sprintf("%.3g", v)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
}

// Duration writes a duration as people read it, in its two largest units: "45 s",
// "4 min 10 s", "2 h 5 min", "3 d 4 h". Under a second it says "under 1 s"; zero is "0 s".
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 s"
	case d < time.Second:
		return "under 1 s"
	}
	d = d.Round(time.Second)
	days, hours := int64(d/(24*time.Hour)), int64(d/time.Hour)%24
	mins, secs := int64(d/time.Minute)%60, int64(d/time.Second)%60
	switch {
	case days > 0:
		return pair(days, "d", hours, "h")
	case hours > 0:
		return pair(hours, "h", mins, "min")
	case mins > 0:
		return pair(mins, "min", secs, "s")
	}
	return fmt.Sprintf("%d s", secs)
}

func pair(a int64, au string, b int64, bu string) string {
	if b == 0 {
		return fmt.Sprintf("%d %s", a, au)
	}
	return fmt.Sprintf("%d %s %d %s", a, au, b, bu)
}

// shorten cuts a long name for a bar's label (the tooltip keeps the whole name).
func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxLabelRunes {
		return s
	}
	return string(r[:maxLabelRunes-1]) + "…"
}

// esc escapes text for SVG content and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// class keeps the characters of a CSS class or id token that need no escaping.
func class(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, s)
}

// num writes a coordinate with two decimals at most.
func num(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
