package chart_test

import (
	"encoding/xml"
	"html/template"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/web/chart"
)

// element is an SVG element as decoded: its name, attributes and direct text.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// parse decodes an SVG as XML (so it is well-formed) and returns its elements in order.
func parse(t *testing.T, svg template.HTML) []element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	var out []element
	var stack []int
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].text += string(tok)
			}
		}
	}
	return out
}

func find(es []element, name, class string) []element {
	var out []element
	for _, e := range es {
		if e.name == name && (class == "" || strings.Contains(" "+e.attrs["class"]+" ", " "+class+" ")) {
			out = append(out, e)
		}
	}
	return out
}

func f(t *testing.T, e element, attr string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(e.attrs[attr], 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		t.Fatalf("%s %s=%q is not a finite number", e.name, attr, e.attrs[attr])
	}
	return v
}

// accessible checks what every chart carries: role="img", a title and a description that
// aria-labelledby names.
func accessible(t *testing.T, es []element, title, desc string) {
	t.Helper()
	svg := es[0]
	if svg.name != "svg" || svg.attrs["role"] != "img" {
		t.Fatalf("the chart is not an svg with role=img: %+v", svg)
	}
	titles, descs := find(es, "title", ""), find(es, "desc", "")
	if len(titles) == 0 || titles[0].text != title || len(descs) != 1 || descs[0].text != desc {
		t.Fatalf("title/desc = %+v %+v, want %q %q", titles, descs, title, desc)
	}
	if want := titles[0].attrs["id"] + " " + descs[0].attrs["id"]; svg.attrs["aria-labelledby"] != want {
		t.Fatalf("aria-labelledby = %q, want %q", svg.attrs["aria-labelledby"], want)
	}
}

func TestStackedBarsGeometry(t *testing.T) {
	c := chart.Chart{ID: "per-day", Title: "Requests per day", Desc: "By outcome", Unit: chart.Count,
		Categories: []string{"12-01", "12-02", "12-03"},
		Series: []chart.Series{
			{Name: "Answered", Class: "answered", Values: []float64{2, 0, 4}},
			{Name: "Open", Class: "open", Values: []float64{2, 1, math.NaN()}},
		}}
	es := parse(t, chart.StackedBars(c))
	accessible(t, es, "Requests per day", "By outcome")
	answered, open := find(es, "rect", "answered"), find(es, "rect", "open")
	// The legend draws one swatch per series; the bars follow: no bar for a zero or a NaN.
	if len(answered) != 1+2 || len(open) != 1+2 {
		t.Fatalf("%d answered and %d open rects, want 3 and 3", len(answered), len(open))
	}
	// Day 1: 2 answered under 2 open, 4 in all; day 3: 4 answered, the tallest bar.
	a1, o1, a3 := answered[1], open[1], answered[2]
	if h1, h3 := f(t, a1, "height"), f(t, a3, "height"); math.Abs(h3-2*h1) > 0.02 {
		t.Errorf("4 requests drawn %v high, 2 drawn %v: not proportional", h3, h1)
	}
	if f(t, o1, "y")+f(t, o1, "height") > f(t, a1, "y")+0.02 {
		t.Errorf("the open part does not sit on the answered part: open y=%v h=%v, answered y=%v", f(t, o1, "y"), f(t, o1, "height"), f(t, a1, "y"))
	}
	if f(t, a3, "x") <= f(t, a1, "x") {
		t.Errorf("day 3 is not right of day 1")
	}
	for _, r := range append(answered[1:], open[1:]...) {
		if f(t, r, "y") < 0 || f(t, r, "y")+f(t, r, "height") > 280.01 || f(t, r, "x")+f(t, r, "width") > 760.01 {
			t.Errorf("a bar leaves the chart: %+v", r.attrs)
		}
	}
	if got := find(es, "title", ""); !strings.Contains(got[1].text, "12-01: Answered 2") {
		t.Errorf("a bar's tooltip is %q", got[1].text)
	}
	if len(find(es, "text", "empty-chart")) != 0 {
		t.Error("a chart with data says it has none")
	}
}

func TestChartsEscapeTheirText(t *testing.T) {
	evil := `<script>alert("x")</script> & 'co'`
	c := chart.Chart{ID: `id"><script>`, Title: evil, Desc: evil, Categories: []string{evil},
		Series: []chart.Series{{Name: evil, Class: `a" onclick="x`, Values: []float64{3}}}}
	for name, draw := range map[string]func(chart.Chart) template.HTML{"stacked": chart.StackedBars, "lines": chart.Lines, "bars": chart.Bars} {
		t.Run(name, func(t *testing.T) {
			svg := draw(c)
			if strings.Contains(string(svg), "<script") || strings.Contains(string(svg), `onclick="`) {
				t.Fatalf("unescaped text in the chart:\n%s", svg)
			}
			es := parse(t, svg)
			accessible(t, es, evil, evil)
			found := false
			for _, e := range es {
				found = found || strings.Contains(e.text, evil)
			}
			if !found {
				t.Error("the label is not drawn, escaped, as its text")
			}
		})
	}
}

func TestChartsOfNothing(t *testing.T) {
	cases := map[string]chart.Chart{
		"no categories": {ID: "x", Title: "t", Desc: "d"},
		"no series":     {ID: "x", Title: "t", Desc: "d", Categories: []string{"a", "b"}},
		"all zero":      {ID: "x", Title: "t", Desc: "d", Categories: []string{"a"}, Series: []chart.Series{{Name: "s", Class: "s", Values: []float64{0}}}},
		"all missing":   {ID: "x", Title: "t", Desc: "d", Categories: []string{"a"}, Series: []chart.Series{{Name: "s", Class: "s", Values: []float64{math.NaN()}}}},
		"short values":  {ID: "x", Title: "t", Desc: "d", Categories: []string{"a", "b"}, Series: []chart.Series{{Name: "s", Class: "s"}}},
	}
	for name, c := range cases {
		for kind, draw := range map[string]func(chart.Chart) template.HTML{"stacked": chart.StackedBars, "lines": chart.Lines, "bars": chart.Bars} {
			if name == "all zero" && kind == "lines" {
				continue // a median of 0 s is a value: its dot is drawn
			}
			t.Run(name+"/"+kind, func(t *testing.T) {
				es := parse(t, draw(c))
				if len(find(es, "text", "empty-chart")) != 1 {
					t.Error("an empty chart does not say it is empty")
				}
				if len(find(es, "polyline", "")) != 0 || len(find(es, "circle", "")) != 0 {
					t.Error("an empty chart draws marks")
				}
			})
		}
	}
}

func TestLinesOneDayAndGaps(t *testing.T) {
	one := chart.Chart{ID: "t", Title: "t", Desc: "d", Unit: chart.Seconds, Categories: []string{"12-01"},
		Series: []chart.Series{{Name: "Median", Class: "median", Values: []float64{250}}}}
	es := parse(t, chart.Lines(one))
	// One day has no line but a dot, centred, with the duration in words.
	if len(find(es, "polyline", "")) != 0 || len(find(es, "circle", "median")) != 1 {
		t.Fatalf("one day: %d lines and %d dots", len(find(es, "polyline", "")), len(find(es, "circle", "median")))
	}
	dot := find(es, "circle", "median")[0]
	if x := f(t, dot, "cx"); math.Abs(x-(70+(760-70-16)/2.0)) > 0.02 {
		t.Errorf("the one day's dot is at x=%v, not in the middle", x)
	}
	if tip := find(es, "title", "")[1].text; tip != "12-01: Median 4 min 10 s" {
		t.Errorf("tooltip %q", tip)
	}
	gaps := chart.Chart{ID: "t", Title: "t", Desc: "d", Unit: chart.Seconds, Categories: []string{"1", "2", "3", "4", "5"},
		Series: []chart.Series{{Name: "p90", Class: "p90", Values: []float64{10, 20, math.NaN(), 30, 40}}}}
	es = parse(t, chart.Lines(gaps))
	if lines := find(es, "polyline", "p90"); len(lines) != 2 {
		t.Fatalf("a missing day should cut the line in two, got %d lines", len(lines))
	}
	// The highest value is 40 s: the axis ends at a whole step above it, its ticks in seconds.
	var labels []string
	for _, e := range find(es, "text", "tick") {
		labels = append(labels, e.text)
	}
	if !strings.Contains(strings.Join(labels, "|"), "0 s|10 s|20 s|30 s|40 s") {
		t.Errorf("duration ticks %q", labels)
	}
}

func TestHugeValuesStayFinite(t *testing.T) {
	huge := []float64{1e18, math.MaxFloat64, math.Inf(1), -5, 7}
	cats := []string{"a", "b", "c", "d", "e"}
	for _, u := range []chart.Unit{chart.Count, chart.Seconds} {
		c := chart.Chart{ID: "h", Title: "t", Desc: "d", Unit: u, Categories: cats,
			Series: []chart.Series{{Name: "s", Class: "s", Values: huge}, {Name: "r", Class: "r", Values: huge}}}
		for kind, draw := range map[string]func(chart.Chart) template.HTML{"stacked": chart.StackedBars, "lines": chart.Lines, "bars": chart.Bars} {
			svg := string(draw(c))
			if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
				t.Fatalf("%s: a coordinate is not finite:\n%s", kind, svg)
			}
			es := parse(t, template.HTML(svg))
			for _, e := range es {
				for _, a := range []string{"x", "y", "width", "height", "cx", "cy"} {
					if _, has := e.attrs[a]; has {
						if v := f(t, e, a); v < -0.01 || v > 1e4 {
							t.Errorf("%s: %s %s=%v is outside the chart", kind, e.name, a, v)
						}
					}
				}
			}
		}
	}
}

func TestManyDaysLabelAFew(t *testing.T) {
	cats := make([]string, 366)
	vals := make([]float64, 366)
	for i := range cats {
		cats[i] = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("01-02")
		vals[i] = float64(i % 7)
	}
	es := parse(t, chart.StackedBars(chart.Chart{ID: "y", Title: "t", Desc: "d", Categories: cats,
		Series: []chart.Series{{Name: "s", Class: "s", Values: vals}}}))
	dayLabel := regexp.MustCompile(`^\d\d-\d\d$`)
	n := 0
	for _, e := range find(es, "text", "tick") {
		if dayLabel.MatchString(e.text) {
			n++
		}
	}
	if n < 5 || n > 10 {
		t.Errorf("%d day labels under 366 days, want a readable handful (5–10)", n)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 s", 400 * time.Millisecond: "under 1 s", 45 * time.Second: "45 s",
		250 * time.Second: "4 min 10 s", 5 * time.Minute: "5 min", 2*time.Hour + 5*time.Minute + 10*time.Second: "2 h 5 min",
		76 * time.Hour: "3 d 4 h", 48 * time.Hour: "2 d", -time.Second: "0 s",
	} {
		if got := chart.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
