package engine

import (
	"testing"
	"time"
)

func TestRetrievalAllowance(t *testing.T) {
	room := RetrievalRoom(32768, false) // 2048
	for _, tc := range []struct {
		name   string
		room   int
		rate   float64
		target time.Duration
		want   int
	}{
		{"speed times target", room, 800, 2 * time.Second, 1600},
		{"capped by the room", room, 5000, 2 * time.Second, room},
		{"floor on a slow machine", room, 100, 2 * time.Second, RetrievalFloor},
		{"floor never above the room", 600, 100, 2 * time.Second, 600},
		{"unmeasured: the whole room", room, 0, 2 * time.Second, room},
		{"no target: the whole room", room, 100, 0, room},
		{"no room", 0, 800, 2 * time.Second, 0},
		{"large context", RetrievalRoom(131072, false), 2000, 3 * time.Second, 6000},
	} {
		if got := RetrievalAllowance(tc.room, tc.rate, tc.target); got != tc.want {
			t.Errorf("%s: RetrievalAllowance(%d, %v, %v) = %d, want %d", tc.name, tc.room, tc.rate, tc.target, got, tc.want)
		}
	}
}
