package request_test

import (
	"testing"

	"github.com/helpstream/helpstream/domain/request"
)

func TestSniffContent(t *testing.T) {
	var (
		jpeg = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"
		png  = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
		gif  = "GIF89a\x01\x00\x01\x00"
		bmp  = "BM\x00\x00\x00\x00\x00\x00\x00\x00"
		pdf  = "%PDF-1.7\n%\xe2\xe3\xcf\xd3"
		ole  = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"
		zip  = "PK\x03\x04\x14\x00\x06\x00"
		rar  = "Rar!\x1A\x07\x01\x00"
		exe  = "MZ\x90\x00\x03\x00\x00\x00\x04\x00"
		elf  = "\x7fELF\x02\x01\x01\x00"
		text = "2024-01-01 12:00:00 service started\n"
	)
	tests := []struct {
		name, file, head string
		wantType         string
		ok               bool
	}{
		{"jpeg", "a.jpeg", jpeg, "image/jpeg", true},
		{"jpg upper case", "A.JPG", jpeg, "image/jpeg", true},
		{"png", "a.png", png, "image/png", true},
		{"gif", "a.gif", gif, "image/gif", true},
		{"bmp", "a.bmp", bmp, "image/bmp", true},
		{"tiff little-endian", "a.tiff", "II*\x00\x08\x00\x00\x00", "image/tiff", true},
		{"tiff big-endian", "a.tiff", "MM\x00*\x00\x00\x00\x08", "image/tiff", true},
		{"pdf", "a.pdf", pdf, "application/pdf", true},
		{"doc", "a.doc", ole, "application/msword", true},
		{"xls", "a.xls", ole, "application/vnd.ms-excel", true},
		{"ppt", "a.ppt", ole, "application/vnd.ms-powerpoint", true},
		{"pps", "a.pps", ole, "application/vnd.ms-powerpoint", true},
		{"docx", "a.docx", zip, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", true},
		{"xlsx", "a.xlsx", zip, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", true},
		{"pptx", "a.pptx", zip, "application/vnd.openxmlformats-officedocument.presentationml.presentation", true},
		{"ppsx", "a.ppsx", zip, "application/vnd.openxmlformats-officedocument.presentationml.presentation", true},
		{"odt", "a.odt", zip, "application/vnd.oasis.opendocument.text", true},
		{"zip", "a.zip", zip, "application/zip", true},
		{"rar", "a.rar", rar, "application/vnd.rar", true},
		{"txt", "a.txt", text, "text/plain; charset=utf-8", true},
		{"log", "a.log", text, "text/plain; charset=utf-8", true},
		{"cfg", "a.cfg", "[main]\nkey=value\n", "text/plain; charset=utf-8", true},

		{"exe renamed to png", "a.png", exe, "image/png", false},
		{"exe renamed to jpg", "a.jpg", exe, "image/jpeg", false},
		{"png renamed to gif", "a.gif", png, "image/gif", false},
		{"elf renamed to tiff", "a.tiff", elf, "image/tiff", false},
		{"html renamed to pdf", "a.pdf", "<html><script>", "application/pdf", false},
		{"zip renamed to doc", "a.doc", zip, "application/msword", false},
		{"ole renamed to docx", "a.docx", ole, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", false},
		{"exe renamed to zip", "a.zip", exe, "application/zip", false},
		{"zip renamed to rar", "a.rar", zip, "application/vnd.rar", false},
		{"binary renamed to txt", "a.txt", elf, "text/plain; charset=utf-8", false},
		{"html renamed to txt", "a.txt", "<html><body>", "text/plain; charset=utf-8", false},
		{"empty png", "a.png", "", "image/png", false},
		{"exe", "a.exe", exe, "application/octet-stream", false},
		{"no extension", "README", text, "application/octet-stream", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotType, ok := request.SniffContent(tt.file, []byte(tt.head))
			if gotType != tt.wantType || ok != tt.ok {
				t.Fatalf("SniffContent(%q) = %q, %v; want %q, %v", tt.file, gotType, ok, tt.wantType, tt.ok)
			}
		})
	}
}

// Every extension R10 allows has a content check: none falls through to "unknown".
func TestSniffContentKnowsEveryAllowedExtension(t *testing.T) {
	for _, ext := range r10All {
		t.Run(ext, func(t *testing.T) {
			if typ, _ := request.SniffContent("f"+ext, nil); typ == "application/octet-stream" {
				t.Fatalf("SniffContent has no rule for %s", ext)
			}
		})
	}
}
