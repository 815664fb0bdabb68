// Package clientinfo reads what a request says about the client: its device (R1's source
// information) and its IP address. The JSON API and the portal pages share it.
package clientinfo

import (
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/helpstream/helpstream/domain/request"
)

// Device reads the platform, OS, OS version and browser from a User-Agent header
// (R1's source information). It is a best effort: the body's own fields win.
func Device(ua string) (platform request.Platform, os, osVersion, browser string) {
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

// IP is the connection's address, or the first X-Forwarded-For hop behind a trusted proxy.
func IP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
			first, _, _ := strings.Cut(fwd, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
