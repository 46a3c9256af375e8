//! The state one command line's stages share while they run: a baton that
//! lets exactly one stage run at a time, the pipes between stages, the one
//! budget of the line and the virtual clock derived from it, and the
//! terminal's capped stdout and stderr.
//!
//! Why one stage at a time: the stages of a pipeline stream into each other
//! through bounded pipes (64 KiB, as Linux's), but which stage runs when is
//! decided here, deterministically, never by the OS scheduler. A stage runs
//! until it must wait (its input pipe is empty, its output pipe is full) or
//! ends; then the lowest-numbered stage that can go on takes over. So every
//! read returns the same bytes, a writer whose reader has gone is stopped at
//! the same write (as by SIGPIPE, status 141), the shared filesystem sees
//! the same order of operations, and fuel is the same on every run. The cost
//! is parallelism inside one line, which the budget model wants anyway: the
//! line's budget is the sum of what its stages do.
//!
//! The budget is counted in fuel: guest instructions, a fixed charge per
//! host call and per byte moved, and sleeps at `fuel_per_second`. The guest's
//! clocks read `clock_base + budget used / fuel_per_second`, so time moves
//! with work and sleeps, identically on replay. Nothing here knows wasmtime
//! or PostgreSQL.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Bytes a pipe holds before its writer waits.
pub const PIPE_CAPACITY: usize = 64 << 10;

#[derive(Clone, Debug, PartialEq, Eq)]
enum StageState {
    NotStarted,
    Running,
    Reading(usize),
    Writing(usize),
    /// Waiting for these tasks to end (a pipeline's stages).
    Joining(Vec<usize>),
}

/// Which end of a pipe a task holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum End {
    Read,
    Write,
}

struct Pipe {
    buf: VecDeque<u8>,
    /// Tasks holding the write end; 0 means end of input for the reader.
    writers: usize,
    /// Tasks holding the read end; 0 means a writer is stopped as by SIGPIPE.
    readers: usize,
}

struct Task {
    state: StageState,
    /// The pipe ends this task holds until it ends.
    holds: Vec<(usize, End)>,
}

struct State {
    current: usize,
    /// Live tasks by id, in creation order (ids are never reused).
    tasks: std::collections::BTreeMap<usize, Task>,
    next_task: usize,
    pipes: std::collections::BTreeMap<usize, Pipe>,
    next_pipe: usize,
    /// Command substitution output, by capture number.
    captures: std::collections::BTreeMap<usize, Vec<u8>>,
    next_capture: usize,
    /// Bytes all captures may still hold (the interpreter's memory limit).
    capture_room: u64,
    /// Offsets of the line's open file descriptions (redirections).
    ofds: Vec<u64>,
}

/// Output that reaches the terminal: the first `cap` bytes are kept, the rest
/// counted and dropped. With a [`Tap`], the kept bytes are also handed on as
/// they arrive (live output).
pub struct Sink {
    buf: Vec<u8>,
    cap: usize,
    dropped: u64,
    tap: Option<(Arc<Tap>, Stream)>,
}

impl Sink {
    pub fn new(cap: usize) -> Sink {
        Sink { buf: Vec::new(), cap, dropped: 0, tap: None }
    }
    pub fn push(&mut self, bytes: &[u8]) {
        let keep = self.cap.saturating_sub(self.buf.len()).min(bytes.len());
        self.buf.extend_from_slice(&bytes[..keep]);
        self.dropped += (bytes.len() - keep) as u64;
        if keep > 0 {
            if let Some((tap, stream)) = &self.tap {
                tap.push(*stream, &bytes[..keep]);
            }
        }
    }
    /// Records that output was dropped before it reached the sink.
    pub fn note_dropped(&mut self) {
        self.dropped = self.dropped.max(1);
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    /// The kept bytes and how many were dropped.
    pub fn take(&mut self) -> (Vec<u8>, u64) {
        (std::mem::take(&mut self.buf), std::mem::take(&mut self.dropped))
    }
}

/// The terminal's two streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Pending bytes past which a tap asks to be drained before its next tick.
pub const TAP_FLUSH_BYTES: usize = 64 << 10;

/// What reached the terminal and has not been taken yet, in the order it
/// arrived, tagged by stream: the source of live output. The sinks push the
/// bytes they keep (so what a tap ever yields, per stream, is exactly the
/// sink's final contents); a drainer takes them every ~100 ms, or sooner
/// when [`TAP_FLUSH_BYTES`] are waiting (`wake` is called once per
/// crossing). Only kept bytes come here, so a tap never holds more than the
/// sinks' caps. Lock order: a sink, then its tap; the drainer takes only the tap.
pub struct Tap {
    pending: Mutex<TapState>,
    wake: Box<dyn Fn() + Send + Sync>,
}

#[derive(Default)]
struct TapState {
    segments: Vec<(Stream, Vec<u8>)>,
    bytes: usize,
    woken: bool,
}

impl Tap {
    pub fn new(wake: Box<dyn Fn() + Send + Sync>) -> Tap {
        Tap { pending: Mutex::new(TapState::default()), wake }
    }

    fn push(&self, stream: Stream, bytes: &[u8]) {
        let mut st = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match st.segments.last_mut() {
            Some((s, buf)) if *s == stream => buf.extend_from_slice(bytes),
            _ => st.segments.push((stream, bytes.to_vec())),
        }
        st.bytes += bytes.len();
        if st.bytes >= TAP_FLUSH_BYTES && !st.woken {
            st.woken = true;
            drop(st);
            (self.wake)();
        }
    }

    /// Everything pending, in arrival order (consecutive bytes of one stream
    /// in one segment).
    pub fn take(&self) -> Vec<(Stream, Vec<u8>)> {
        let mut st = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        st.bytes = 0;
        st.woken = false;
        std::mem::take(&mut st.segments)
    }
}

/// What a pipe operation found.
pub enum PipeIo {
    Done(usize),
    /// The stage must wait for its neighbour (call [`Line::wait`]).
    Wait,
    /// The reader has gone: the writer is stopped as by SIGPIPE.
    Broken,
}

/// The budget: how much a line may do, and how much it has done.
pub struct Budget {
    /// Fuel the whole line may use.
    pub limit: u64,
    used: AtomicU64,
    /// Virtual nanoseconds spent sleeping, and the fuel charged for them.
    slept_ns: AtomicU64,
    sleep_fuel: AtomicU64,
    pub fuel_per_second: u64,
}

impl Budget {
    pub fn new(limit: u64, fuel_per_second: u64) -> Budget {
        Budget { limit, used: AtomicU64::new(0), slept_ns: AtomicU64::new(0), sleep_fuel: AtomicU64::new(0), fuel_per_second: fuel_per_second.max(1) }
    }
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used())
    }
    /// Adds work done (by a stage that held the baton).
    pub fn spend(&self, fuel: u64) {
        self.used.fetch_add(fuel, Ordering::Relaxed);
    }
    /// Charges a sleep of `ns`, or as much of it as the budget allows.
    /// Returns the nanoseconds granted and whether the budget ran out.
    pub fn sleep(&self, ns: u64, extra_used: u64) -> (u64, bool) {
        let fps = self.fuel_per_second as u128;
        let want = ((ns as u128 * fps).div_ceil(1_000_000_000)).min(u64::MAX as u128) as u64;
        let left = self.remaining().saturating_sub(extra_used);
        if want <= left {
            self.spend(want);
            self.sleep_fuel.fetch_add(want, Ordering::Relaxed);
            self.slept_ns.fetch_add(ns, Ordering::Relaxed);
            (ns, false)
        } else {
            let granted = (left as u128 * 1_000_000_000 / fps) as u64;
            self.spend(left);
            self.sleep_fuel.fetch_add(left, Ordering::Relaxed);
            self.slept_ns.fetch_add(granted, Ordering::Relaxed);
            (granted, true)
        }
    }
    /// Virtual nanoseconds since the line started, with `extra_used` fuel the
    /// running stage has used since it last reported.
    pub fn elapsed_ns(&self, extra_used: u64) -> u64 {
        let work = (self.used() + extra_used).saturating_sub(self.sleep_fuel.load(Ordering::Relaxed));
        let work_ns = (work as u128 * 1_000_000_000 / self.fuel_per_second as u128) as u64;
        self.slept_ns.load(Ordering::Relaxed).saturating_add(work_ns)
    }
}

/// One line's shared run state.
pub struct Line {
    state: Mutex<State>,
    turn: Condvar,
    pub budget: Budget,
    pub clock_base_ns: i64,
    /// Sleeps really wait (a live run); replays never wait.
    pub live: bool,
    pub cancel: Arc<AtomicBool>,
    /// Wall-clock backstop: a stage past it is stopped as timed out.
    pub wall_deadline: Instant,
    pub stdout: Mutex<Sink>,
    pub stderr: Mutex<Sink>,
    /// A capture was refused room (the line then ends at the memory limit).
    capture_overflow: AtomicBool,
}

impl Line {
    pub fn new(budget: Budget, clock_base_ns: i64, live: bool, cancel: Arc<AtomicBool>, wall_deadline: Instant, stdout_cap: usize, stderr_cap: usize) -> Line {
        Line {
            state: Mutex::new(State {
                current: 0,
                tasks: [(0, Task { state: StageState::Running, holds: Vec::new() })].into_iter().collect(),
                next_task: 1,
                pipes: Default::default(),
                next_pipe: 0,
                captures: Default::default(),
                next_capture: 0,
                capture_room: u64::MAX,
                ofds: Vec::new(),
            }),
            capture_overflow: AtomicBool::new(false),
            turn: Condvar::new(),
            budget,
            clock_base_ns,
            live,
            cancel,
            wall_deadline,
            stdout: Mutex::new(Sink::new(stdout_cap)),
            stderr: Mutex::new(Sink::new(stderr_cap)),
        }
    }

    /// Hands what the terminal's sinks keep to `tap` from now on.
    pub fn set_tap(&self, tap: Arc<Tap>) {
        self.stdout.lock().unwrap().tap = Some((tap.clone(), Stream::Stdout));
        self.stderr.lock().unwrap().tap = Some((tap, Stream::Stderr));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new pipe; its ends belong to the tasks spawned holding them.
    pub fn new_pipe(&self) -> usize {
        let mut st = self.lock();
        let id = st.next_pipe;
        st.next_pipe += 1;
        st.pipes.insert(id, Pipe { buf: VecDeque::new(), writers: 0, readers: 0 });
        id
    }

    /// A pipe that already holds `data` and has no writer: input from memory
    /// (a here-document). It lives until the line ends.
    pub fn preloaded_pipe(&self, data: Vec<u8>) -> usize {
        let mut st = self.lock();
        let id = st.next_pipe;
        st.next_pipe += 1;
        // One reader that is never released: the pipe outlives the tasks using it.
        st.pipes.insert(id, Pipe { buf: data.into(), writers: 0, readers: 1 });
        id
    }

    /// A new task (a pipeline stage) that holds `holds` until it ends. It
    /// runs once it gets the baton: call [`Line::begin`] on its thread.
    pub fn spawn(&self, holds: &[(usize, End)]) -> usize {
        let mut st = self.lock();
        let id = st.next_task;
        st.next_task += 1;
        let mut mine: Vec<(usize, End)> = holds.to_vec();
        mine.sort();
        mine.dedup();
        for (p, end) in &mine {
            if let Some(pipe) = st.pipes.get_mut(p) {
                match end {
                    End::Read => pipe.readers += 1,
                    End::Write => pipe.writers += 1,
                }
            }
        }
        st.tasks.insert(id, Task { state: StageState::NotStarted, holds: mine });
        id
    }

    /// Task `me` waits until every task in `ids` has ended.
    pub fn join(&self, me: usize, ids: &[usize]) {
        let mut st = self.lock();
        if let Some(t) = st.tasks.get_mut(&me) {
            t.state = StageState::Joining(ids.to_vec());
        }
        drop(st);
        self.wait(me);
    }

    /// Waits until task `me` holds the baton for the first time.
    pub fn begin(&self, me: usize) {
        let mut st = self.lock();
        while st.current != me {
            st = self.turn.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        if let Some(t) = st.tasks.get_mut(&me) {
            t.state = StageState::Running;
        }
    }

    fn runnable(st: &State, i: usize) -> bool {
        let Some(t) = st.tasks.get(&i) else { return false };
        match &t.state {
            StageState::NotStarted => true,
            StageState::Reading(p) => st.pipes.get(p).is_none_or(|p| !p.buf.is_empty() || p.writers == 0),
            StageState::Writing(p) => st.pipes.get(p).is_none_or(|p| p.buf.len() < PIPE_CAPACITY || p.readers == 0),
            StageState::Joining(ids) => ids.iter().all(|id| !st.tasks.contains_key(id)),
            StageState::Running => false,
        }
    }

    /// Hands the baton to the lowest-numbered task that can go on.
    fn pass(&self, st: &mut State) {
        if let Some(next) = st.tasks.keys().copied().find(|&i| Self::runnable(st, i)) {
            st.current = next;
            self.turn.notify_all();
        }
        // No task can go on: every task has ended (pipelines cannot
        // deadlock: a reader waits only on an empty pipe with a live
        // writer, a writer only on a full one with a live reader, and a
        // task joins only tasks it spawned).
    }

    /// Task `me` waits (after [`PipeIo::Wait`]) until it can go on.
    pub fn wait(&self, me: usize) {
        let mut st = self.lock();
        if Self::runnable(&st, me) {
            if let Some(t) = st.tasks.get_mut(&me) {
                t.state = StageState::Running;
            }
            return;
        }
        self.pass(&mut st);
        while st.current != me {
            st = self.turn.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        if let Some(t) = st.tasks.get_mut(&me) {
            t.state = StageState::Running;
        }
    }

    /// Task `me` waits until pipe `p` has something to read or its writers
    /// have ended (a poll on its stdin).
    pub fn wait_readable(&self, me: usize, p: usize) {
        if let Some(t) = self.lock().tasks.get_mut(&me) {
            t.state = StageState::Reading(p);
        }
        self.wait(me);
    }

    /// Task `me` has ended: the pipe ends it held are released and the next
    /// task runs.
    pub fn finish(&self, me: usize) {
        let mut st = self.lock();
        Self::release(&mut st, me);
        self.pass(&mut st);
    }

    /// Removes task `me`, which never ran (its thread could not start),
    /// closing its pipe ends; the baton stays where it is.
    pub fn abandon(&self, me: usize) {
        Self::release(&mut self.lock(), me);
    }

    fn release(st: &mut State, me: usize) {
        if let Some(t) = st.tasks.remove(&me) {
            for (p, end) in t.holds {
                let gone = match st.pipes.get_mut(&p) {
                    Some(pipe) => {
                        match end {
                            End::Read => {
                                pipe.readers -= 1;
                                if pipe.readers == 0 {
                                    pipe.buf.clear();
                                }
                            }
                            End::Write => pipe.writers -= 1,
                        }
                        pipe.readers == 0 && pipe.writers == 0
                    }
                    None => false,
                };
                if gone {
                    st.pipes.remove(&p);
                }
            }
        }
    }

    /// A new capture (the output of a command substitution).
    pub fn new_capture(&self) -> usize {
        let mut st = self.lock();
        let id = st.next_capture;
        st.next_capture += 1;
        st.captures.insert(id, Vec::new());
        id
    }

    /// How many bytes all captures of the line may hold.
    pub fn set_capture_room(&self, bytes: u64) {
        self.lock().capture_room = bytes;
    }

    /// Appends to capture `k`; false (nothing kept) past the line's room.
    pub fn capture_write(&self, k: usize, data: &[u8]) -> bool {
        let mut st = self.lock();
        if (data.len() as u64) > st.capture_room {
            return false;
        }
        st.capture_room -= data.len() as u64;
        st.captures.entry(k).or_default().extend_from_slice(data);
        true
    }

    pub fn note_capture_overflow(&self) {
        self.capture_overflow.store(true, Ordering::Relaxed);
    }

    pub fn capture_overflowed(&self) -> bool {
        self.capture_overflow.load(Ordering::Relaxed)
    }

    /// A new open file description at offset `pos`.
    pub fn new_ofd(&self, pos: u64) -> usize {
        let mut st = self.lock();
        st.ofds.push(pos);
        st.ofds.len() - 1
    }

    pub fn ofd_get(&self, o: usize) -> u64 {
        self.lock().ofds.get(o).copied().unwrap_or(0)
    }

    pub fn ofd_set(&self, o: usize, pos: u64) {
        if let Some(p) = self.lock().ofds.get_mut(o) {
            *p = pos;
        }
    }

    /// Takes capture `k`'s bytes and gives their room back.
    pub fn capture_take(&self, k: usize) -> Vec<u8> {
        let mut st = self.lock();
        let v = st.captures.remove(&k).unwrap_or_default();
        st.capture_room = st.capture_room.saturating_add(v.len() as u64);
        v
    }

    /// Reads from pipe `p` into `buf`: what is there, 0 at end of input, or
    /// Wait when the pipe is empty and its writer still runs.
    pub fn try_read(&self, me: usize, p: usize, buf: &mut [u8]) -> PipeIo {
        let mut st = self.lock();
        let Some(pipe) = st.pipes.get_mut(&p) else { return PipeIo::Done(0) };
        if buf.is_empty() {
            return PipeIo::Done(0);
        }
        if pipe.buf.is_empty() {
            if pipe.writers == 0 {
                return PipeIo::Done(0);
            }
            if let Some(t) = st.tasks.get_mut(&me) {
                t.state = StageState::Reading(p);
            }
            return PipeIo::Wait;
        }
        let n = buf.len().min(pipe.buf.len());
        let (a, b) = pipe.buf.as_slices();
        let from_a = n.min(a.len());
        buf[..from_a].copy_from_slice(&a[..from_a]);
        if n > from_a {
            buf[from_a..n].copy_from_slice(&b[..n - from_a]);
        }
        pipe.buf.drain(..n);
        PipeIo::Done(n)
    }

    /// Moves bytes of pipe `p` into `out` up to and including the first
    /// `delim` (as a shell's `read` does, never taking more): Done(n) with
    /// the bytes moved (0 at end of input), or Wait.
    pub fn try_read_until(&self, me: usize, p: usize, delim: u8, out: &mut Vec<u8>) -> PipeIo {
        let mut st = self.lock();
        let Some(pipe) = st.pipes.get_mut(&p) else { return PipeIo::Done(0) };
        if pipe.buf.is_empty() {
            if pipe.writers == 0 {
                return PipeIo::Done(0);
            }
            if let Some(t) = st.tasks.get_mut(&me) {
                t.state = StageState::Reading(p);
            }
            return PipeIo::Wait;
        }
        let n = pipe.buf.iter().position(|&b| b == delim).map(|i| i + 1).unwrap_or(pipe.buf.len());
        out.extend(pipe.buf.drain(..n));
        PipeIo::Done(n)
    }

    /// Bytes ready to read in pipe `p` (for poll), or None if empty with a live writer.
    pub fn readable(&self, p: usize) -> Option<u64> {
        let st = self.lock();
        let Some(pipe) = st.pipes.get(&p) else { return Some(0) };
        if pipe.buf.is_empty() && pipe.writers > 0 {
            None
        } else {
            Some(pipe.buf.len() as u64)
        }
    }

    /// Writes as much of `data` into pipe `p` as fits: Done(n) with n > 0, or
    /// Wait when it is full, or Broken when its reader has gone.
    pub fn try_write(&self, me: usize, p: usize, data: &[u8]) -> PipeIo {
        let mut st = self.lock();
        let Some(pipe) = st.pipes.get_mut(&p) else { return PipeIo::Broken };
        if pipe.readers == 0 {
            return PipeIo::Broken;
        }
        if data.is_empty() {
            return PipeIo::Done(0);
        }
        let room = PIPE_CAPACITY.saturating_sub(pipe.buf.len());
        if room == 0 {
            if let Some(t) = st.tasks.get_mut(&me) {
                t.state = StageState::Writing(p);
            }
            return PipeIo::Wait;
        }
        let n = room.min(data.len());
        pipe.buf.extend(&data[..n]);
        PipeIo::Done(n)
    }

    /// Writes all of `data` into pipe `p`, waiting as needed; false if the
    /// reader has gone. For stages without fuel (builtins, native programs).
    pub fn write_all(&self, me: usize, p: usize, mut data: &[u8]) -> bool {
        while !data.is_empty() {
            match self.try_write(me, p, data) {
                PipeIo::Done(n) => data = &data[n..],
                PipeIo::Wait => self.wait(me),
                PipeIo::Broken => return false,
            }
        }
        true
    }

    /// Reads pipe `p` to its end, up to `cap` bytes; Err(read so far) past `cap`.
    pub fn read_to_end(&self, me: usize, p: usize, cap: usize) -> Result<Vec<u8>, Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; PIPE_CAPACITY];
        loop {
            match self.try_read(me, p, &mut buf) {
                PipeIo::Done(0) => return Ok(out),
                PipeIo::Done(n) => {
                    if out.len() + n > cap {
                        return Err(out);
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                PipeIo::Wait => self.wait(me),
                PipeIo::Broken => return Ok(out),
            }
        }
    }

    /// The guest-visible wall clock now, with `extra_used` fuel not yet reported.
    pub fn wall_now(&self, extra_used: u64) -> i64 {
        self.clock_base_ns.saturating_add(self.budget.elapsed_ns(extra_used).min(i64::MAX as u64) as i64)
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn line() -> Arc<Line> {
        Arc::new(Line::new(Budget::new(1_000_000, 1_000_000_000), 0, false, Arc::new(AtomicBool::new(false)), Instant::now() + Duration::from_secs(60), 100, 100))
    }

    #[test]
    fn a_tap_sees_what_the_sinks_keep_in_order_and_wakes_once_per_crossing() {
        let l = line();
        let woke = Arc::new(AtomicU64::new(0));
        let w = woke.clone();
        let tap = Arc::new(Tap::new(Box::new(move || {
            w.fetch_add(1, Ordering::Relaxed);
        })));
        l.set_tap(tap.clone());
        l.stdout.lock().unwrap().push(b"ab");
        l.stdout.lock().unwrap().push(b"c");
        l.stderr.lock().unwrap().push(b"E");
        l.stdout.lock().unwrap().push(&[b'x'; 200]); // cap 100: 97 kept
        let got = tap.take();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (Stream::Stdout, b"abc".to_vec()));
        assert_eq!(got[1], (Stream::Stderr, b"E".to_vec()));
        assert_eq!(got[2].1.len(), 97);
        l.stderr.lock().unwrap().push(b"new");
        assert_eq!(tap.take(), vec![(Stream::Stderr, b"new".to_vec())]);
        assert_eq!(woke.load(Ordering::Relaxed), 0);
        let big = Arc::new(Line::new(Budget::new(1, 1), 0, false, Arc::new(AtomicBool::new(false)), Instant::now(), 1 << 20, 1 << 20));
        big.set_tap(tap.clone());
        for _ in 0..3 {
            big.stdout.lock().unwrap().push(&vec![0; TAP_FLUSH_BYTES]);
        }
        assert_eq!(woke.load(Ordering::Relaxed), 1, "one wake until the tap is drained");
        assert_eq!(tap.take()[0].1.len(), 3 * TAP_FLUSH_BYTES);
        big.stdout.lock().unwrap().push(&vec![0; TAP_FLUSH_BYTES]);
        assert_eq!(woke.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_pipeline_streams_more_than_a_pipe_holds_in_a_fixed_order() {
        let l = line();
        let p = l.new_pipe();
        let w = l.spawn(&[(p, End::Write)]);
        let r = l.spawn(&[(p, End::Read)]);
        let total = PIPE_CAPACITY * 5 + 17;
        let l2 = l.clone();
        let reader = std::thread::spawn(move || {
            l2.begin(r);
            let got = l2.read_to_end(r, p, usize::MAX);
            l2.finish(r);
            got.unwrap().len()
        });
        let l3 = l.clone();
        let writer = std::thread::spawn(move || {
            l3.begin(w);
            assert!(l3.write_all(w, p, &vec![7u8; total]));
            l3.finish(w);
        });
        l.join(0, &[w, r]);
        writer.join().unwrap();
        assert_eq!(reader.join().unwrap(), total);
    }

    #[test]
    fn a_writer_whose_reader_is_gone_is_told_so() {
        let l = line();
        let p = l.new_pipe();
        let w = l.spawn(&[(p, End::Write)]);
        let r = l.spawn(&[(p, End::Read)]);
        let l2 = l.clone();
        let reader = std::thread::spawn(move || {
            l2.begin(r);
            let mut b = [0u8; 10];
            let n = loop {
                match l2.try_read(r, p, &mut b) {
                    PipeIo::Done(n) => break n,
                    PipeIo::Wait => l2.wait(r),
                    PipeIo::Broken => unreachable!(),
                }
            };
            l2.finish(r);
            n
        });
        let l3 = l.clone();
        let writer = std::thread::spawn(move || {
            l3.begin(w);
            // The first 64 KiB fit; the reader then takes 10 bytes and leaves.
            let ok = l3.write_all(w, p, &vec![1u8; PIPE_CAPACITY * 3]);
            l3.finish(w);
            ok
        });
        l.join(0, &[w, r]);
        assert!(!writer.join().unwrap());
        assert_eq!(reader.join().unwrap(), 10);
    }

    #[test]
    fn a_stage_waiting_for_input_is_resumed_when_it_arrives() {
        let l = line();
        let p = l.new_pipe();
        // The reader is spawned first, so it runs first and must wait.
        let r = l.spawn(&[(p, End::Read)]);
        let w = l.spawn(&[(p, End::Write)]);
        let l2 = l.clone();
        let reader = std::thread::spawn(move || {
            l2.begin(r);
            // As a poll on stdin does: wait for data, then read it.
            l2.wait_readable(r, p);
            let mut b = [0u8; 8];
            let n = match l2.try_read(r, p, &mut b) {
                PipeIo::Done(n) => n,
                _ => 0,
            };
            l2.finish(r);
            n
        });
        let l3 = l.clone();
        let writer = std::thread::spawn(move || {
            l3.begin(w);
            assert!(l3.write_all(w, p, b"abc"));
            l3.finish(w);
        });
        l.join(0, &[r, w]);
        writer.join().unwrap();
        assert_eq!(reader.join().unwrap(), 3);
    }

    #[test]
    fn a_line_read_takes_no_more_than_one_line() {
        let l = line();
        let p = l.new_pipe();
        let w = l.spawn(&[(p, End::Write)]);
        let l3 = l.clone();
        let writer = std::thread::spawn(move || {
            l3.begin(w);
            assert!(l3.write_all(w, p, b"one\ntwo\n"));
            l3.finish(w);
        });
        // Task 0 reads after the writer has ended: nothing holds the read end,
        // so hold it through a reader task instead.
        let r = l.spawn(&[(p, End::Read)]);
        let l2 = l.clone();
        let reader = std::thread::spawn(move || {
            l2.begin(r);
            let mut a = Vec::new();
            while let PipeIo::Wait = l2.try_read_until(r, p, b'\n', &mut a) {
                l2.wait(r);
            }
            let mut b = Vec::new();
            let _ = l2.try_read_until(r, p, b'\n', &mut b);
            l2.finish(r);
            (a, b)
        });
        l.join(0, &[w, r]);
        writer.join().unwrap();
        assert_eq!(reader.join().unwrap(), (b"one\n".to_vec(), b"two\n".to_vec()));
    }

    #[test]
    fn captures_are_bounded_by_the_room_the_line_gives_them() {
        let l = line();
        l.set_capture_room(10);
        let k = l.new_capture();
        assert!(l.capture_write(k, b"12345678"));
        assert!(!l.capture_write(k, b"abc"));
        assert_eq!(l.capture_take(k), b"12345678");
        let k2 = l.new_capture();
        assert!(l.capture_write(k2, b"0123456789"));
    }

    #[test]
    fn sleeps_are_charged_and_capped_by_the_budget() {
        let b = Budget::new(3_000, 1_000); // 1,000 fuel a second: 3 s of budget
        assert_eq!(b.sleep(1_000_000_000, 0), (1_000_000_000, false));
        assert_eq!(b.elapsed_ns(0), 1_000_000_000);
        b.spend(500); // half a second of work
        assert_eq!(b.elapsed_ns(0), 1_500_000_000);
        assert_eq!(b.sleep(5_000_000_000, 0), (1_500_000_000, true));
        assert_eq!(b.remaining(), 0);
    }
}
