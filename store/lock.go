package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Lock is the exclusive right to send a campaign from one ledger. It is an
// flock on a file beside the ledger, so the operating system releases it
// when the process ends, however it ends: a killed run never leaves a
// stale lock behind. (flock is not reliable on NFS: keep ledgers local.)
type Lock struct {
	f    *os.File
	path string
}

// Holder describes the process holding a campaign's lock.
type Holder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// LockedError says that another run holds the campaign.
type LockedError struct {
	Campaign string
	Holder   Holder // zero when the holder could not be read
}

func (e *LockedError) Error() string {
	if e.Holder.PID == 0 {
		return fmt.Sprintf("campaign %q is being sent by another pregon run", e.Campaign)
	}
	return fmt.Sprintf("campaign %q is being sent by another pregon run: pid %d on %s, since %s",
		e.Campaign, e.Holder.PID, e.Holder.Host, e.Holder.Since.Local().Format("2006-01-02 15:04:05"))
}

// lockPath is the lock file for a campaign in the ledger at ledgerPath.
func lockPath(ledgerPath, campaignName string) string {
	sum := sha256.Sum256([]byte(campaignName))
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, campaignName)
	if len(safe) > 40 {
		safe = safe[:40]
	}
	return fmt.Sprintf("%s.%s-%s.lock", ledgerPath, safe, hex.EncodeToString(sum[:4]))
}

// Acquire takes the campaign's lock without waiting; when another process
// holds it, it returns a *LockedError naming that process.
func Acquire(ledgerPath, campaignName string) (*Lock, error) {
	path := lockPath(ledgerPath, campaignName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			le := &LockedError{Campaign: campaignName}
			if data, err := os.ReadFile(path); err == nil {
				_ = json.Unmarshal(data, &le.Holder)
			}
			return nil, le
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	info, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Since: time.Now().UTC()})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(info, 0)
	}
	return &Lock{f: f, path: path}, nil
}

// Release gives the lock up. The file stays: removing it would race with a
// process that has it open and is about to lock it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}
