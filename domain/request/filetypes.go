package request

import (
	"bytes"
	"net/http"
	"path"
	"strings"
)

// SniffContent checks that a file's first bytes (up to 512) are what its extension says, so a
// renamed executable cannot pass as a picture. It returns the content type to store.
func SniffContent(fileName string, head []byte) (contentType string, ok bool) {
	ext := strings.ToLower(path.Ext(fileName))
	detected := http.DetectContentType(head)
	has := func(prefix string) bool { return bytes.HasPrefix(head, []byte(prefix)) }
	ole := has("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") // legacy Office compound file
	zip := has("PK\x03\x04")
	switch ext {
	case ".jpeg", ".jpg":
		return "image/jpeg", detected == "image/jpeg"
	case ".png":
		return "image/png", detected == "image/png"
	case ".gif":
		return "image/gif", detected == "image/gif"
	case ".bmp":
		return "image/bmp", detected == "image/bmp"
	case ".tiff":
		return "image/tiff", has("II*\x00") || has("MM\x00*")
	case ".pdf":
		return "application/pdf", detected == "application/pdf"
	case ".doc":
		return "application/msword", ole
	case ".xls":
		return "application/vnd.ms-excel", ole
	case ".ppt", ".pps":
		return "application/vnd.ms-powerpoint", ole
	case ".docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document", zip
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", zip
	case ".pptx", ".ppsx":
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation", zip
	case ".odt":
		return "application/vnd.oasis.opendocument.text", zip
	case ".zip":
		return "application/zip", zip
	case ".rar":
		return "application/vnd.rar", has("Rar!\x1A\x07")
	case ".txt", ".log", ".cfg":
		return "text/plain; charset=utf-8", strings.HasPrefix(detected, "text/plain")
	}
	return "application/octet-stream", false
}
