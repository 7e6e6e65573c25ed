package syntax

import (
	"reflect"
	"testing"
)

func TestParsedEncoding(t *testing.T) {
	for _, lang := range Languages() {
		p, _ := Parse(lang, []byte(syntaxSamples[lang]))
		b, err := encodeParsed(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := decodeParsed(b)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Errorf("%s: round trip: %v\n got %+v\nwant %+v", lang, err, q, p)
		}
	}
	if q, err := decodeParsed([]byte("{}")); err != nil || q.Symbols != nil || q.Refs != nil {
		t.Errorf("empty: %+v, %v", q, err)
	}
}
