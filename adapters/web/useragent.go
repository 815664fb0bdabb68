package web

import (
	"regexp"
	"strings"

	"github.com/helpstream/helpstream/domain/request"
)

// deviceFromUserAgent reads the platform, OS, OS version and browser from a User-Agent header
// (R1's source information). It is a best effort: the body's own fields win.
func deviceFromUserAgent(ua string) (platform request.Platform, os, osVersion, browser string) {
	switch {
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad") || strings.Contains(ua, "iPod"):
		platform, os = request.IOS, "iOS"
		osVersion = strings.ReplaceAll(firstMatch(iosVersion, ua), "_", ".")
	case strings.Contains(ua, "Android"):
		platform, os = request.Android, "Android"
		osVersion = firstMatch(androidVersion, ua)
	case strings.Contains(ua, "Windows"):
		platform, os = request.Windows, "Windows"
		osVersion = firstMatch(windowsVersion, ua)
	case strings.Contains(ua, "Macintosh") || strings.Contains(ua, "Mac OS X"):
		platform, os = request.Mac, "macOS"
		osVersion = strings.ReplaceAll(firstMatch(macVersion, ua), "_", ".")
	}
	for _, b := range browsers {
		if v := firstMatch(b.re, ua); v != "" || b.re.MatchString(ua) {
			browser = strings.TrimSpace(b.name + " " + v)
			break
		}
	}
	return platform, os, osVersion, browser
}

var (
	iosVersion     = regexp.MustCompile(`OS (\d+[_\d]*) like Mac OS X`)
	androidVersion = regexp.MustCompile(`Android (\d+(?:\.\d+)*)`)
	windowsVersion = regexp.MustCompile(`Windows NT (\d+\.\d+)`)
	macVersion     = regexp.MustCompile(`Mac OS X (\d+[_.\d]*)`)
	browsers       = []struct {
		name string
		re   *regexp.Regexp
	}{
		{"Edge", regexp.MustCompile(`Edg(?:e|A|iOS)?/(\d+)`)},
		{"Firefox", regexp.MustCompile(`(?:Firefox|FxiOS)/(\d+)`)},
		{"Chrome", regexp.MustCompile(`(?:Chrome|CriOS)/(\d+)`)},
		{"Safari", regexp.MustCompile(`Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/`)},
	}
)

func firstMatch(re *regexp.Regexp, s string) string {
	m := re.FindStringSubmatch(s)
	if len(m) < 2 {
		return ""
	}
	return m[1]
}
