package cli

import (
	"fmt"
	"io"
	"time"

	"lore/api"
	"lore/internal/bytesize"
	"lore/internal/cmdline"
)

// printStatus writes a daemon's status in plain words; verbose adds the
// counters that matter to whoever works on lore rather than with it.
func printStatus(w io.Writer, st *api.Status, verbose bool) {
	n := cmdline.Thousands
	secs := func(s float64) string { return cmdline.Seconds(time.Duration(s * float64(time.Second))) }
	line := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%-11s %s\n", label, fmt.Sprintf(format, a...))
	}
	line("repository", "%s", st.Repo)
	line("daemon", "%s, pid %d, up %s, idle %s", st.State, st.PID, secs(st.UptimeSeconds), secs(st.IdleSeconds))
	if st.Error != "" {
		line("error", "%s", st.Error)
	}
	if st.Model != "" {
		line("model", "%s, context of %s tokens (%s)", st.Model, n(int64(st.ContextSize)), st.ModelPath)
	} else {
		line("model", "%s (loading)", st.ModelPath)
	}
	var skel, mapped int
	for _, o := range st.Omitted {
		if o.Reason == api.OmitSkeleton {
			skel++
		} else {
			mapped++
		}
	}
	files := st.Files + skel + mapped
	if len(st.Omitted) == 0 {
		line("files", "all %s files in full", n(int64(files)))
	} else {
		line("files", "%s of %s files in full, %s as signatures, %s only in the map (`lore status --json` lists them)",
			n(int64(st.Files)), n(int64(files)), n(int64(skel)), n(int64(mapped)))
	}
	if st.Skipped > 0 {
		line("", "%s left out: binary, too large, vendored, generated or holding secrets (`lore pack --stats` lists them)", n(int64(st.Skipped)))
	}
	if st.ContextSize > 0 {
		line("context", "the repository takes %s of %s tokens (%d%%)", n(int64(st.PackTokens)), n(int64(st.ContextSize)), 100*st.PackTokens/max(st.ContextSize, 1))
	} else {
		line("context", "the repository takes %s tokens", n(int64(st.PackTokens)))
	}
	switch {
	case st.Progress != nil && st.Progress.Total > 0:
		line("prefilling", "%s", cmdline.ProgressLine("", int64(st.Progress.Done), int64(st.Progress.Total), "tokens", 0, 0)[1:])
	case st.KVTokens >= st.PackTokens && st.PackTokens > 0:
		how := "computed since the start"
		if st.RestoredTokens > 0 && st.PrefilledTokens == 0 {
			how = "restored from the snapshot at start"
		} else if st.RestoredTokens > 0 {
			how = fmt.Sprintf("%s restored from the snapshot at start, %s computed since", n(int64(st.RestoredTokens)), n(int64(st.PrefilledTokens)))
		}
		line("kv cache", "holds the whole repository, ready to answer (%s)", how)
	default:
		line("kv cache", "holds %s of the repository's %s tokens", n(int64(st.KVTokens)), n(int64(st.PackTokens)))
	}
	if st.LastPrefillTokens > 0 {
		line("last change", "%s tokens prefilled in %s, at %s", n(int64(st.LastPrefillTokens)),
			cmdline.Seconds(time.Duration(st.LastPrefillMillis*float64(time.Millisecond))), st.LastPrefillAt.Local().Format("15:04:05"))
	}
	speed := "not measured yet"
	if st.PrefillTokensPerSec > 0 {
		speed = fmt.Sprintf("prefill %s tokens/s", n(int64(st.PrefillTokensPerSec)))
	}
	if st.DecodeTokensPerSec > 0 {
		speed += fmt.Sprintf(", answers %.1f tokens/s", st.DecodeTokensPerSec)
	}
	line("speed", "%s; %s of memory in use", speed, bytesize.Format(st.MemoryBytes))
	engineStatus(st, line)
	if note := api.SeenNote(st.LastRetrievedFull, st.LastRetrieved); note != "" {
		line("last answer", "%s", note)
	}
	line("questions", "%d running, %d waiting; %d planning sessions", st.ActiveQuestions, st.QueuedQuestions, st.Sessions)
	if st.SnapshotBytes > 0 {
		line("snapshot", "%s (a restart restores the KV cache from it)", bytesize.Format(st.SnapshotBytes))
	}
	if d := st.SnapshotDiscarded; d != nil {
		line("discarded", "snapshot %s at %s: %s", d.Name, d.At.Local().Format("15:04:05"), d.Reason)
	}
	if d := st.Disk; d != nil && d.Full {
		line("disk", "%s", d.Message)
	}
	if !verbose {
		return
	}
	fmt.Fprintln(w)
	line("pack", "%s tokens in %s segments, version %s", n(int64(st.PackTokens)), n(int64(st.Segments)), st.PackVersion)
	line("kv prefix", "%s valid tokens; %s prefilled since start, %s restored from the snapshot", n(int64(st.KVTokens)), n(int64(st.PrefilledTokens)), n(int64(st.RestoredTokens)))
	line("overlay", "%s tokens of edits, %s stale tokens, %d unsaved editor buffers", n(int64(st.OverlayTokens)), n(int64(st.StaleTokens)), st.Buffers)
	if st.RetrievalAllowance > 0 {
		line("retrieval", "up to %s tokens of files per question (prefill speed × retrieval_latency, within the room the context leaves)", n(int64(st.RetrievalAllowance)))
	}
	if k := len(st.Snapshots); k > 0 {
		var total int64
		for _, s := range st.Snapshots {
			total += s.Bytes
		}
		line("on disk", "%d snapshots (branches and sessions), %s", k, bytesize.Format(total))
	}
	if d := st.Disk; d != nil && !d.Full {
		line("disk", "%s free in %s (the cache writes while over %s)", bytesize.Format(d.FreeBytes), d.Dir, bytesize.Format(d.ReserveBytes))
	}
	if t := st.TokenCacheHits + st.TokenCacheMisses; t > 0 {
		line("token cache", "%s of %s segment tokenizations served from the cache", n(st.TokenCacheHits), n(t))
	}
	if st.BatchDecodes > 0 {
		line("batching", "%s decode rounds, %s steps", n(st.BatchDecodes), n(st.BatchSteps))
	}
}
