package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"lore/config"
)

// ErrDenied means the daemon's socket may not be used: it, its folder or the
// process listening on it belongs to another user, or the user may not open
// it. A question sent there could be read, and answered, by someone else.
var ErrDenied = errors.New("refusing the lore daemon's socket")

// The socket folder's default place, /tmp/lore-<uid>, is a predictable name
// in a folder everyone may write to: another user can create it first and
// listen there. So a client checks, before it sends anything, that the
// folder and the socket are the user's own and closed to others, and after
// connecting that the process behind the socket runs as the user
// (SO_PEERCRED); the daemon checks its folder and its peers the same way.

// VerifySocketDir checks that dir, the folder of daemon sockets, belongs to
// the user and that no one else may write to it. A symbolic link is followed,
// but it must belong to the user too: in a shared folder such as /tmp, a link
// is its creator's.
func VerifySocketDir(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return folderErr(dir, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		if err := owned(dir, "socket folder (a symbolic link)", st); err != nil {
			return err
		}
		if st, err = os.Stat(dir); err != nil {
			return folderErr(dir, err)
		}
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: the socket folder %s is not a folder; remove it, or point %s at a folder of your own", ErrDenied, dir, config.EnvRuntime)
	}
	if err := owned(dir, "socket folder", st); err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: the socket folder %s may be written by other users (mode %04o); make it private with `chmod 700 %s`", ErrDenied, dir, st.Mode().Perm(), dir)
	}
	return nil
}

// verifySocket checks the socket file itself: a socket, the user's, and not
// writable by others (connecting needs write permission).
func verifySocket(socket string) error {
	st, err := os.Lstat(socket)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: %v: its folder %s is closed to you; make it yours and private (chmod 700)", ErrDenied, err, filepath.Dir(socket))
		}
		return err
	}
	if st.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("%w: %s is not a socket (%s); remove it, a daemon makes a new one", ErrDenied, socket, st.Mode().Type())
	}
	if err := owned(socket, "socket", st); err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: the socket %s may be used by other users (mode %04o); stop its daemon (`lore stop`) and remove it", ErrDenied, socket, st.Mode().Perm())
	}
	return nil
}

// verifyPeer checks that the process listening on socket, at the other end
// of c, runs as the user.
func verifyPeer(c net.Conn, socket string) error {
	uid, err := PeerUID(c)
	if err != nil {
		return fmt.Errorf("%w: cannot tell who listens on %s: %v", ErrDenied, socket, err)
	}
	if me := os.Geteuid(); uid != me {
		return fmt.Errorf("%w: the process listening on %s runs as uid %d, not as you (uid %d); another user may be impersonating the lore daemon: remove the socket's folder %s, or point XDG_RUNTIME_DIR or %s at a folder of your own", ErrDenied, socket, uid, me, filepath.Dir(socket), config.EnvRuntime)
	}
	return nil
}

// PeerUID is the user id of the process at the other end of a unix socket
// connection, as the kernel recorded it when the connection was made.
func PeerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, fmt.Errorf("%T is not a unix socket connection", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if credErr != nil {
		return -1, credErr
	}
	return int(cred.Uid), nil
}

func owned(path, what string, st fs.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: cannot tell who owns %s", ErrDenied, path)
	}
	if me := os.Geteuid(); int(sys.Uid) != me {
		fix := "remove it"
		if what != "socket" {
			fix = fmt.Sprintf("remove it, or point XDG_RUNTIME_DIR or %s at a folder of your own", config.EnvRuntime)
		}
		return fmt.Errorf("%w: the %s %s belongs to uid %d, not to you (uid %d); another user may be impersonating the lore daemon: %s", ErrDenied, what, path, sys.Uid, me, fix)
	}
	return nil
}

func folderErr(dir string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: %v: the socket folder %s is closed to you; make it yours and private (chmod 700)", ErrDenied, err, dir)
	}
	return err
}
