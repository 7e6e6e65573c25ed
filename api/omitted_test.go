package api

import (
	"encoding/json"
	"testing"
)

// The reasons are the sentences clients have always received: the enum must
// not change the wire.
func TestOmittedWire(t *testing.T) {
	for _, c := range []struct {
		reason OmitReason
		want   string
	}{
		{OmitSkeleton, `{"path":"a.go","reason":"reduced to its signatures to fit the context"}`},
		{OmitMap, `{"path":"a.go","reason":"only in the map: does not fit the context"}`},
	} {
		b, err := json.Marshal(Omitted{Path: "a.go", Reason: c.reason})
		if err != nil || string(b) != c.want {
			t.Errorf("got %s, %v; want %s", b, err, c.want)
		}
		var back Omitted
		if err := json.Unmarshal(b, &back); err != nil || back.Reason != c.reason {
			t.Errorf("%s read back as %+v, %v", b, back, err)
		}
	}
}
