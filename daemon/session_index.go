package daemon

import (
	"encoding/json"
	"os"
	"path/filepath"

	"lore/api"
	"lore/internal/atomicfile"
)

// sessionIndexName is the file in the repository's state folder that lists
// its planning sessions, so that `lore session list` reads them without a
// daemon (the store is a database only one process opens).
const sessionIndexName = "sessions.json"

// SessionIndexPath is the session list of the repository whose state
// folder is stateDir (config.RepoStateDir).
func SessionIndexPath(stateDir string) string { return filepath.Join(stateDir, sessionIndexName) }

// ReadSessionIndex reads the session list a daemon of the repository last
// wrote, most recently used first; none when no daemon has written one.
func ReadSessionIndex(stateDir string) ([]api.SessionInfo, error) {
	b, err := os.ReadFile(SessionIndexPath(stateDir))
	if os.IsNotExist(err) {
		return []api.SessionInfo{}, nil
	}
	if err != nil {
		return nil, err
	}
	var list []api.SessionInfo
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// writeSessionIndex brings the session list file up to date with the
// store. A failure only makes `lore session list` without a daemon stale:
// it is logged, not returned.
func (d *Daemon) writeSessionIndex() {
	list, err := d.sessions()
	if err == nil {
		var b []byte
		if b, err = json.Marshal(list); err == nil {
			err = atomicfile.Write(SessionIndexPath(d.opts.StateDir), b, 0o600)
		}
	}
	if err != nil {
		d.log.Warn("session list file not written", "err", err)
	}
}
