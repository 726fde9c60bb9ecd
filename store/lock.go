package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pregon/pregon/filelock"
)

// Lock is the exclusive right to send a campaign from one ledger. It is a
// lock on a file beside the ledger's real file (package filelock), so that
// every name of the ledger (a symbolic link, a relative or an absolute
// path) meets the same lock, and the operating system releases it however
// the process ends: a killed run never leaves a stale lock behind. (File
// locks are not reliable on NFS: keep ledgers local.)
type Lock struct {
	f *filelock.File
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

// lockPath is the lock file for a campaign in the ledger at ledgerPath:
// LEDGER.CAMPAIGN-HASH.lock beside the ledger's real file, as SQLite's
// -wal is.
func lockPath(ledgerPath, campaignName string) (string, error) {
	real, err := resolve(ledgerPath)
	if err != nil {
		return "", err
	}
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
	return fmt.Sprintf("%s.%s-%s.lock", real, safe, hex.EncodeToString(sum[:4])), nil
}

// Acquire takes the campaign's lock without waiting; when another process
// holds it, it returns a *LockedError naming that process.
func Acquire(ledgerPath, campaignName string) (*Lock, error) {
	path, err := lockPath(ledgerPath, campaignName)
	if err != nil {
		return nil, fmt.Errorf("lock campaign %q: %w", campaignName, err)
	}
	f, err := filelock.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lock campaign %q: %w", campaignName, err)
	}
	if err := f.TryLock(); err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrLocked) {
			le := &LockedError{Campaign: campaignName}
			// A holder that has not announced itself yet stays unnamed.
			if h, err := probe(path); err == nil && h != nil {
				le.Holder = *h
			}
			return nil, le
		}
		return nil, fmt.Errorf("lock campaign %q: %w", campaignName, err)
	}
	host, _ := os.Hostname()
	info, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Since: time.Now().UTC()})
	if err := f.Announce(info); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock campaign %q: %w", campaignName, err)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up. The file stays: removing it would race with a
// process that has it open and is about to lock it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Probe returns the run holding the campaign's lock, or nil when no run
// does, without taking the lock: a run starting at that moment is never
// refused because a reader looked.
func Probe(ledgerPath, campaignName string) (*Holder, error) {
	path, err := lockPath(ledgerPath, campaignName)
	if err == nil {
		var h *Holder
		if h, err = probe(path); err == nil {
			return h, nil
		}
	}
	return nil, fmt.Errorf("look for a run of campaign %q: %w", campaignName, err)
}

func probe(lockPath string) (*Holder, error) {
	info, held, err := filelock.Probe(lockPath)
	if err != nil || !held {
		return nil, err
	}
	h := &Holder{}
	// A holder whose words cannot be read is still a holder.
	_ = json.Unmarshal(info, h)
	return h, nil
}
