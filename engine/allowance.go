package engine

import "time"

// RetrievalFloor is the least a question may spend on retrieved files
// when the room allows it, however slow the machine: about one mid-size
// source file with its test, so a slow CPU still sees the file a question
// names in full rather than nothing.
const RetrievalFloor = 1024

// RetrievalAllowance sizes what one question may spend on retrieved files
// by the machine: the tokens the engine prefills in target at its measured
// speed (tokens per second), so a GPU retrieves far more per question
// than a 2-core CPU for the same wait before the first token. The result
// never exceeds room (engine.RetrievalRoom: what the context leaves) and
// is at least RetrievalFloor (or room, if smaller). Before the first
// measurement (rate <= 0), or with no target (target <= 0), it is the
// whole room: the prefix's first prefill measures the speed before most
// questions, and a daemon that restored its prefix from a snapshot learns
// it at its first prefill.
func RetrievalAllowance(room int, rate float64, target time.Duration) int {
	if room <= 0 {
		return 0
	}
	if rate <= 0 || target <= 0 {
		return room
	}
	n := rate * target.Seconds()
	if n >= float64(room) {
		return room
	}
	return min(room, max(int(n), RetrievalFloor))
}
