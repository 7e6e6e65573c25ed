package models

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// MeminfoPath is the kernel's memory report that AvailableMemory reads.
const MeminfoPath = "/proc/meminfo"

// AvailableMemory is the memory the kernel says a new process can use
// without swapping: MemAvailable of /proc/meminfo (free memory plus the
// page cache it can drop, which includes a model file read before).
func AvailableMemory() (int64, error) {
	return meminfoField(MeminfoPath, "MemAvailable")
}

// TotalMemory is MemTotal of /proc/meminfo.
func TotalMemory() (int64, error) {
	return meminfoField(MeminfoPath, "MemTotal")
}

func meminfoField(path, field string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading the available memory: %w (set memory_limit to the bytes lore may use)", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || string(name) != field {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			break
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			break
		}
		if len(f) > 1 && string(f[1]) == "kB" {
			n <<= 10
		}
		return n, nil
	}
	return 0, fmt.Errorf("%s has no %s line (set memory_limit to the bytes lore may use)", path, field)
}
