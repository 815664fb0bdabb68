// Package eventjson decodes event payloads faster than encoding/json, into the same values.
//
// Every read of the log decodes its payloads: a rebuild the whole log, a command the streams it
// loads. github.com/goccy/go-json decodes them about five times faster than encoding/json. The
// domain imports no JSON library but the standard one, so the program installs this one at
// start with Install; the tests hold it to encoding/json's results for every event type.
package eventjson

import (
	gojson "github.com/goccy/go-json"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Unmarshal decodes data into v as encoding/json.Unmarshal does.
func Unmarshal(data []byte, v any) error { return gojson.Unmarshal(data, v) }

// Install makes every eventlog.Codec decode payloads with Unmarshal.
func Install() { eventlog.SetUnmarshal(Unmarshal) }
