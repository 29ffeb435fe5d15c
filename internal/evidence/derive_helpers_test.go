package evidence_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// The markers planted in each metadata block of the test photos; none may
// reach a derivative.
var (
	jpegMarkers = []string{"MARK-MAKE", "MARK-MODEL", "MARK-ARTIST", "MARK-SERIAL", "MARK-MAKERNOTE", "MARK-GPSDATUM",
		"MARK-XMP", "MARK-IPTC", "MARK-ICC", "MARK-COMMENT"}
	pngMarkers = []string{"MARK-TEXT", "MARK-ITXT", "MARK-ARTIST", "MARK-SERIAL", "MARK-GPSDATUM"}
)

// tag is one TIFF directory entry; data is its value in little-endian
// bytes.
type tag struct {
	id, typ uint16
	data    []byte
}

func ascii(s string) []byte { return append([]byte(s), 0) }

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// tiffExif is a little-endian TIFF structure as EXIF holds it: IFD0 with
// make, model, artist and orientation, pointing to an EXIF IFD (body
// serial number, maker note) and a GPS IFD (latitude, map datum).
func tiffExif(orientation uint16) []byte {
	var lat []byte
	for _, v := range []uint32{52, 1, 22, 1, 1234, 100} {
		lat = append(lat, u32(v)...)
	}
	ifds := [][]tag{
		{{0x010F, 2, ascii("MARK-MAKE")}, {0x0110, 2, ascii("MARK-MODEL")}, {0x0112, 3, u16(orientation)},
			{0x013B, 2, ascii("MARK-ARTIST")}, {0x8769, 4, nil}, {0x8825, 4, nil}},
		{{0x927C, 7, []byte("MARK-MAKERNOTE")}, {0xA431, 2, ascii("MARK-SERIAL")}},
		{{0x0001, 2, ascii("N")}, {0x0002, 5, lat}, {0x0012, 2, ascii("MARK-GPSDATUM")}},
	}
	unit := map[uint16]int{2: 1, 3: 2, 4: 4, 5: 8, 7: 1}
	offsets := []int{8}
	for _, d := range ifds {
		offsets = append(offsets, offsets[len(offsets)-1]+2+12*len(d)+4)
	}
	ifds[0][4].data, ifds[0][5].data = u32(uint32(offsets[1])), u32(uint32(offsets[2]))
	out := []byte("II\x2a\x00\x08\x00\x00\x00")
	var extra []byte
	for _, d := range ifds {
		out = append(out, u16(uint16(len(d)))...)
		for _, e := range d {
			out = append(out, u16(e.id)...)
			out = append(out, u16(e.typ)...)
			out = append(out, u32(uint32(len(e.data)/unit[e.typ]))...)
			if len(e.data) <= 4 {
				out = append(out, e.data...)
				out = append(out, make([]byte, 4-len(e.data))...)
				continue
			}
			out = append(out, u32(uint32(offsets[3]+len(extra)))...)
			extra = append(extra, e.data...)
			if len(extra)%2 == 1 {
				extra = append(extra, 0)
			}
		}
		out = append(out, u32(0)...)
	}
	return append(out, extra...)
}

// segment is a JPEG marker segment.
func segment(marker byte, payload []byte) []byte {
	return append([]byte{0xFF, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
}

// halves is a w×h image, red on its left half and blue on its right.
func halves(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{220, 20, 20, 255}
			if x >= w/2 {
				c = color.NRGBA{20, 20, 220, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// phoneJPEG is a 64×32 JPEG as a phone writes one, held sideways: EXIF
// (orientation 6, camera, owner, GPS), XMP, IPTC, an ICC profile and a
// comment, each carrying a marker.
func phoneJPEG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, halves(64, 32), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	plain := b.Bytes()
	xmp := `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
		`<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="MARK-XMP"/></rdf:RDF></x:xmpmeta>`
	iptc := append([]byte{0x1C, 0x02, 0x50, 0x00, byte(len("MARK-IPTC"))}, "MARK-IPTC"...) // 2:80 By-line
	irb := append([]byte("8BIM\x04\x04\x00\x00"), binary.BigEndian.AppendUint32(nil, uint32(len(iptc)))...)
	irb = append(irb, iptc...)
	if len(irb)%2 == 1 {
		irb = append(irb, 0)
	}
	out := append([]byte{}, plain[:2]...) // SOI
	out = append(out, segment(0xE1, append([]byte("Exif\x00\x00"), tiffExif(6)...))...)
	out = append(out, segment(0xE1, append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmp...))...)
	out = append(out, segment(0xED, append([]byte("Photoshop 3.0\x00"), irb...))...)
	out = append(out, segment(0xE2, append([]byte("ICC_PROFILE\x00\x01\x01"), "MARK-ICC"...))...)
	out = append(out, segment(0xFE, []byte("MARK-COMMENT"))...)
	return append(out, plain[2:]...)
}

// chunk is a PNG chunk with its CRC.
func chunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// taggedPNG is a 48×24 PNG with a transparent top-left pixel and tEXt,
// iTXt and eXIf chunks carrying markers.
func taggedPNG(t testing.TB) []byte {
	t.Helper()
	img := halves(48, 24)
	img.SetNRGBA(0, 0, color.NRGBA{})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	plain := b.Bytes()
	const ihdrEnd = 8 + 25 // signature, IHDR
	out := append([]byte{}, plain[:ihdrEnd]...)
	out = append(out, chunk("tEXt", []byte("Author\x00MARK-TEXT"))...)
	out = append(out, chunk("iTXt", []byte("Comment\x00\x00\x00\x00\x00MARK-ITXT"))...)
	out = append(out, chunk("eXIf", tiffExif(1))...)
	return append(out, plain[ihdrEnd:]...)
}
