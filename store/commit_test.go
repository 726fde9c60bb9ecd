package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
)

// holdLock takes the ledger file's write lock from a connection of its
// own, as another process would (a backup tool, a stuck program, `sqlite3
// pregon.db` with BEGIN IMMEDIATE), until release is called.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// queued imports n contacts and returns the queue that hands them out,
// with the contacts.
func queued(t *testing.T, l *Ledger, n int) (*Queue, []campaign.Job) {
	t.Helper()
	ctx := context.Background()
	id, err := l.Register(ctx, "c", "fp", platform, false)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []campaign.Message
	for i := range n {
		msgs = append(msgs, msg(i+2, fmt.Sprintf("phone:+1%03d", i), "x"))
	}
	_, gen := importAll(t, l, id, msgs...)
	q := l.Queue(id, gen, Eligible{})
	jobs, err := q.Next(ctx, n)
	if err != nil || len(jobs) != n {
		t.Fatalf("next: %d jobs, %v", len(jobs), err)
	}
	return q, jobs
}

// waitPending waits until n writes wait in the ledger's queue.
func waitPending(l *Ledger, n int) {
	for {
		l.mu.Lock()
		got := len(l.pending)
		l.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// begin is a BEGIN the leader tried (see Ledger.beforeBegin).
type begin struct {
	writes int
	wait   time.Duration
}

// gather holds the leader's first BEGIN until n more writes queue behind
// it, so that those make the next batch, and records every BEGIN. Read
// the record once the writes have returned.
func gather(l *Ledger, n int) *[]begin {
	var begins []begin
	l.beforeBegin = func(writes int, wait time.Duration) {
		if len(begins) == 0 {
			waitPending(l, n)
		}
		begins = append(begins, begin{writes, wait})
	}
	return &begins
}

// attempts returns each contact's attempts, by contact.
func attempts(t *testing.T, l *Ledger) map[string]int {
	t.Helper()
	cs, err := l.Contacts(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range cs {
		out[c.Contact] = c.Attempts
	}
	return out
}

func isBusy(err error) bool {
	code, ok := sqliteCode(err)
	return ok && code == codeBusy
}

// A ledger another process keeps locked fails 64 writes in flight after
// one wait of the busy timeout, not one wait per write: the writes that
// queued while the first BEGIN waited share what is left of its wait
// (nothing), a transaction that cannot begin is not tried again write by
// write, and a write that comes after (the run's end) tries once.
func TestLockedLedgerFailsEveryWriteAfterOneWait(t *testing.T) {
	const timeout = 300 * time.Millisecond
	l, path := openTemp(t, WithBusyTimeout(timeout))
	q, jobs := queued(t, l, 64)
	release := holdLock(t, path)
	begins := gather(l, 63)

	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { errs[i] = q.Attempt(context.Background(), j.ID) })
	}
	wg.Wait()
	for i, err := range errs {
		if !isBusy(err) {
			t.Errorf("attempt %d: %v, want the busy error", i, err)
		}
	}
	var waited time.Duration
	for i, b := range *begins {
		switch {
		case i == len(*begins)-1:
			if b != (begin{writes: 63, wait: 0}) {
				t.Errorf("last BEGIN: %+v, want the 63 writes queued meanwhile, with no wait left", b)
			}
		case b.writes != 1:
			t.Errorf("BEGIN %d was for %d writes, want the first write's", i, b.writes)
		default:
			waited += b.wait
		}
	}
	if waited > timeout {
		t.Errorf("the first write was given %v to wait, more than the busy timeout %v", waited, timeout)
	}
	t.Logf("BEGINs: %+v", *begins)
	var after []begin
	l.beforeBegin = func(writes int, wait time.Duration) { after = append(after, begin{writes, wait}) }
	if err := l.EndRun(context.Background(), Run{ID: 1, Ended: time.Now()}); !isBusy(err) {
		t.Errorf("the run's end: %v, want the busy error", err)
	}
	if want := []begin{{1, 0}}; fmt.Sprint(after) != fmt.Sprint(want) {
		t.Errorf("the run's end: BEGINs %v, want %v", after, want)
	}
	release()
	for c, n := range attempts(t, l) {
		if n != 0 {
			t.Errorf("%s: %d attempts recorded, want none", c, n)
		}
	}
}

// Writes whose callers stop waiting (a stop) leave the queue at once, with
// the context's error, and nothing of theirs is written; the write under
// way is not disturbed.
func TestCancelledWritesLeaveTheQueue(t *testing.T) {
	l, path := openTemp(t, WithBusyTimeout(time.Minute))
	q, jobs := queued(t, l, 11)
	release := holdLock(t, path)
	began := make(chan struct{})
	var once sync.Once
	l.beforeBegin = func(int, time.Duration) { once.Do(func() { close(began) }) }
	first := make(chan error, 1)
	go func() { first <- q.Attempt(context.Background(), jobs[0].ID) }()
	<-began // jobs[0]'s transaction waits for the lock

	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, len(jobs)-1)
	for _, j := range jobs[1:] {
		go func() { errs <- q.Attempt(ctx, j.ID) }()
	}
	waitPending(l, len(jobs)-1)
	cancel()
	for range len(jobs) - 1 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled attempt: %v, want context.Canceled", err)
		}
	}
	// All returned while the lock is still held: none waited for a
	// transaction.
	release()
	if err := <-first; err != nil {
		t.Fatalf("the write under way: %v", err)
	}
	for c, n := range attempts(t, l) {
		if want := map[bool]int{true: 1, false: 0}[c == jobs[0].Contact]; n != want {
			t.Errorf("%s: %d attempts recorded, want %d", c, n, want)
		}
	}
}

// A stop drops the attempts waiting for a locked ledger, even the one
// whose BEGIN is waiting, but never an outcome: Record's context ignores
// the stop, and the outcome is written once the lock is released.
func TestStopDropsAttemptsNeverOutcomes(t *testing.T) {
	l, path := openTemp(t, WithBusyTimeout(time.Minute))
	q, jobs := queued(t, l, 2)
	ctx := context.Background()
	if err := q.Attempt(ctx, jobs[0].ID); err != nil { // its request is under way
		t.Fatal(err)
	}
	release := holdLock(t, path)
	began := make(chan struct{})
	var once sync.Once
	l.beforeBegin = func(int, time.Duration) { once.Do(func() { close(began) }) }
	run, stop := context.WithCancel(ctx)
	attempt := make(chan error, 1)
	go func() { attempt <- q.Attempt(run, jobs[1].ID) }()
	<-began
	outcome := make(chan error, 1)
	go func() {
		outcome <- q.Record(context.WithoutCancel(run), jobs[0].ID, campaign.Outcome{State: campaign.Sent, HTTPStatus: 200})
	}()
	waitPending(l, 1)
	stop()
	// Answered within one turn of the wait for the lock, which is held.
	if err := <-attempt; !errors.Is(err, context.Canceled) {
		t.Errorf("attempt waiting for the lock: %v, want context.Canceled", err)
	}
	release()
	if err := <-outcome; err != nil {
		t.Fatalf("outcome: %v", err)
	}
	got := states(t, l, 1)
	if got[jobs[0].Contact] != campaign.Sent || got[jobs[1].Contact] != campaign.Pending {
		t.Errorf("states = %v, want the outcome recorded and the stopped attempt not", got)
	}
}

// A caller whose context ends while its transaction runs learns what
// became of its write: here it was committed.
func TestCancelDuringTheTransactionAnswersWhatWasWritten(t *testing.T) {
	l, _ := openTemp(t)
	_, jobs := queued(t, l, 1)
	ctx, cancel := context.WithCancel(context.Background())
	err := l.write(ctx, onDisk, func(tx *sql.Tx) error {
		cancel() // Ctrl-C, as the statement runs
		_, err := tx.ExecContext(context.Background(), `UPDATE contacts SET state = 'sending', attempts = 1 WHERE id = ?`, jobs[0].ID)
		return err
	})
	if err != nil {
		t.Fatalf("write: %v, want it committed", err)
	}
	if n := attempts(t, l)[jobs[0].Contact]; n != 1 {
		t.Errorf("attempts = %d, want the committed 1", n)
	}
}

// A write whose own statement fails gets its error; the others of its
// batch are committed, in one more transaction, not one each.
func TestOneBadWriteDoesNotFailItsNeighbours(t *testing.T) {
	l, _ := openTemp(t)
	q, jobs := queued(t, l, 5)
	ctx := context.Background()
	done := jobs[4]
	if err := q.Attempt(ctx, done.ID); err != nil {
		t.Fatal(err)
	}
	if err := q.Record(ctx, done.ID, campaign.Outcome{State: campaign.Sent}); err != nil {
		t.Fatal(err)
	}
	begins := gather(l, 4)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = q.Attempt(ctx, jobs[0].ID) }) // the leader
	waitLeader(l)
	// Queued in this order behind the leader: the bad one in the middle.
	for i, id := range []int64{jobs[1].ID, done.ID, jobs[2].ID, jobs[3].ID} {
		wg.Go(func() { errs[i+1] = q.Attempt(ctx, id) })
		if i < 3 { // the 4th lets the leader go on
			waitPending(l, i+1)
		}
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == 2 && (err == nil || !strings.Contains(err.Error(), "not waiting to be sent")):
			t.Errorf("attempt at a sent contact: %v, want its own error", err)
		case i != 2 && err != nil:
			t.Errorf("attempt %d: %v", i, err)
		}
	}
	want := []begin{{1, lockPoll}, {4, lockPoll}, {3, lockPoll}}
	if fmt.Sprint(*begins) != fmt.Sprint(want) {
		t.Errorf("BEGINs = %v, want %v: the leader's, the batch of 4, the batch of 3 without the bad one", *begins, want)
	}
	got := attempts(t, l)
	for _, j := range jobs {
		if got[j.Contact] != 1 {
			t.Errorf("%s: %d attempts, want 1", j.Contact, got[j.Contact])
		}
	}
}

// A write whose caller is cancelled in the middle of its statement (what
// a write does that runs its statements with its caller's context) makes
// SQLite roll back the whole transaction: the other writes of the batch
// run again without it, and are committed.
func TestInterruptedWriteKeepsTheOthers(t *testing.T) {
	l, _ := openTemp(t)
	q, jobs := queued(t, l, 2)
	bg := context.Background()
	begins := gather(l, 2)
	var wg sync.WaitGroup
	var leaderErr, neighbourErr, interruptedErr error
	wg.Go(func() { leaderErr = q.Attempt(bg, jobs[0].ID) })
	waitLeader(l)
	wg.Go(func() { neighbourErr = q.Attempt(bg, jobs[1].ID) })
	waitPending(l, 1)
	ctx, cancel := context.WithCancel(bg)
	wg.Go(func() {
		interruptedErr = l.write(ctx, withNext, func(tx *sql.Tx) error {
			time.AfterFunc(20*time.Millisecond, cancel)
			// Counts to a billion unless interrupted.
			_, err := tx.ExecContext(ctx, `UPDATE contacts SET error = 'x' WHERE id = ? AND
				(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c) > 0`,
				jobs[1].ID)
			return err
		})
	})
	wg.Wait()
	if leaderErr != nil || neighbourErr != nil {
		t.Fatalf("leader: %v; neighbour: %v", leaderErr, neighbourErr)
	}
	if !errors.Is(interruptedErr, context.Canceled) {
		t.Errorf("interrupted write: %v, want context.Canceled", interruptedErr)
	}
	cs, err := l.Contacts(bg, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Attempts != 1 || c.Error != "" {
			t.Errorf("%s: %d attempts, error %q; want the attempt and not the interrupted write", c.Contact, c.Attempts, c.Error)
		}
	}
	if len(*begins) != 3 || (*begins)[1].writes != 2 || (*begins)[2].writes != 1 {
		t.Errorf("BEGINs = %v, want the leader's, the batch of 2, then the neighbour again alone", *begins)
	}
}

// waitLeader waits until a write leads a commit.
func waitLeader(l *Ledger) {
	for {
		l.mu.Lock()
		leading := l.committing
		l.mu.Unlock()
		if leading {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
