package cache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// writeSnapshot writes the whole file format to w and returns its size. The
// header must already contain the state checksum.
func writeSnapshot(w io.Writer, hdr, state []byte) (int64, error) {
	fileHash := sha256.New()
	// bufio passes writes larger than its buffer straight through, so the
	// state is not copied.
	bw := bufio.NewWriterSize(io.MultiWriter(w, fileHash), ioBufferSize)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(hdr)))
	bw.WriteString(snapshotMagic)
	bw.Write(n[:])
	bw.Write(hdr)
	bw.Write(state)
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if _, err := w.Write(fileHash.Sum(nil)); err != nil {
		return 0, err
	}
	return int64(prefixLen + len(hdr) + len(state) + trailerLen), nil
}

// checkSegments checks that segment ends are ordered and within the tokens.
func checkSegments(h SnapshotHeader) error {
	prev := 0
	for i, m := range h.Segments {
		if m.End < prev || m.End > len(h.Tokens) {
			return fmt.Errorf("segment %d ends at %d (previous end %d, %d tokens)", i, m.End, prev, len(h.Tokens))
		}
		prev = m.End
	}
	return nil
}

// corruptErr marks a verification failure (as opposed to an I/O error).
type corruptErr struct{ reason string }

func (e *corruptErr) Error() string { return e.reason }

func corruptf(format string, a ...any) error { return &corruptErr{fmt.Sprintf(format, a...)} }

// readSnapshot reads a snapshot file. With full set it reads and verifies
// the state and both checksums; otherwise it reads only the header (for
// rebuilding index records). Verification failures are *corruptErr.
func readSnapshot(path string, full bool) (SnapshotHeader, []byte, int64, error) {
	var h SnapshotHeader
	f, err := os.Open(path)
	if err != nil {
		return h, nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return h, nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return h, nil, 0, corruptf("not a regular file")
	}
	size := fi.Size()
	if size < int64(prefixLen+trailerLen) {
		return h, nil, 0, corruptf("truncated: %d bytes", size)
	}

	fileHash := sha256.New()
	br := bufio.NewReaderSize(f, ioBufferSize)
	r := io.TeeReader(br, fileHash)

	pre := make([]byte, prefixLen)
	if _, err := io.ReadFull(r, pre); err != nil {
		return h, nil, 0, readErr(err)
	}
	if string(pre[:len(snapshotMagic)]) != snapshotMagic {
		return h, nil, 0, corruptf("bad magic %q", pre[:len(snapshotMagic)])
	}
	hlen := int64(binary.LittleEndian.Uint32(pre[len(snapshotMagic):]))
	if hlen == 0 || hlen > maxHeaderLen || int64(prefixLen)+hlen+trailerLen > size {
		return h, nil, 0, corruptf("header length %d does not fit a file of %d bytes", hlen, size)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return h, nil, 0, readErr(err)
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return h, nil, 0, corruptf("header: %v", err)
	}
	if h.Format != SnapshotFormat {
		return h, nil, 0, corruptf("format version %d, want %d", h.Format, SnapshotFormat)
	}
	stateSize := size - int64(prefixLen) - hlen - trailerLen
	if h.StateSize != stateSize {
		return h, nil, 0, corruptf("header says %d state bytes, file holds %d", h.StateSize, stateSize)
	}
	if len(h.StateSHA256) != 2*sha256.Size {
		return h, nil, 0, corruptf("bad state checksum %q", h.StateSHA256)
	}
	if err := checkSegments(h); err != nil {
		return h, nil, 0, corruptf("%v", err)
	}
	if !full {
		return h, nil, size, nil
	}

	state := make([]byte, stateSize)
	stateSum, err := readHashed(r, state)
	if err != nil {
		return h, nil, 0, readErr(err)
	}
	want := fileHash.Sum(nil)
	trailer := make([]byte, trailerLen)
	if _, err := io.ReadFull(br, trailer); err != nil {
		return h, nil, 0, readErr(err)
	}
	if !bytes.Equal(want, trailer) {
		return h, nil, 0, corruptf("file checksum mismatch")
	}
	if hex.EncodeToString(stateSum) != h.StateSHA256 {
		return h, nil, 0, corruptf("state checksum mismatch")
	}
	return h, state, size, nil
}

// readHashed fills buf from r and returns the sha256 of buf. The state
// checksum is computed on a second goroutine, chunk by chunk as the chunks
// arrive, so that it overlaps with reading and with the file checksum that r
// computes.
func readHashed(r io.Reader, buf []byte) ([]byte, error) {
	chunks := make(chan []byte, 4)
	sum := make(chan []byte, 1)
	go func() {
		var hh hash.Hash = sha256.New()
		for c := range chunks {
			hh.Write(c)
		}
		sum <- hh.Sum(nil)
	}()
	var err error
	for off := 0; off < len(buf); {
		end := min(off+hashChunkBytes, len(buf))
		if _, err = io.ReadFull(r, buf[off:end]); err != nil {
			break
		}
		chunks <- buf[off:end]
		off = end
	}
	close(chunks)
	s := <-sum
	if err != nil {
		return nil, err
	}
	return s, nil
}

// readErr turns an unexpected end of file (the file shrank while being read)
// into a verification failure and passes other I/O errors through.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corruptf("truncated")
	}
	return err
}
