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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StageState {
    NotStarted,
    Running,
    Reading(usize),
    Writing(usize),
    Done,
}

struct Pipe {
    buf: VecDeque<u8>,
    writer_open: bool,
    reader_open: bool,
}

struct State {
    current: usize,
    stages: Vec<StageState>,
    pipes: Vec<Pipe>,
}

/// Output that reaches the terminal: the first `cap` bytes are kept, the rest
/// counted and dropped.
pub struct Sink {
    buf: Vec<u8>,
    cap: usize,
    dropped: u64,
}

impl Sink {
    pub fn new(cap: usize) -> Sink {
        Sink { buf: Vec::new(), cap, dropped: 0 }
    }
    pub fn push(&mut self, bytes: &[u8]) {
        let keep = self.cap.saturating_sub(self.buf.len()).min(bytes.len());
        self.buf.extend_from_slice(&bytes[..keep]);
        self.dropped += (bytes.len() - keep) as u64;
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
}

impl Line {
    pub fn new(budget: Budget, clock_base_ns: i64, live: bool, cancel: Arc<AtomicBool>, wall_deadline: Instant, stdout_cap: usize, stderr_cap: usize) -> Line {
        Line {
            state: Mutex::new(State { current: 0, stages: Vec::new(), pipes: Vec::new() }),
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

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets up a pipeline of `n` stages joined by `n - 1` pipes; stage 0 runs first.
    pub fn start_pipeline(&self, n: usize) {
        let mut st = self.lock();
        st.current = 0;
        st.stages = vec![StageState::NotStarted; n];
        st.pipes = (0..n.saturating_sub(1)).map(|_| Pipe { buf: VecDeque::new(), writer_open: true, reader_open: true }).collect();
    }

    /// Waits until stage `me` holds the baton for the first time.
    pub fn begin(&self, me: usize) {
        let mut st = self.lock();
        while st.current != me {
            st = self.turn.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.stages[me] = StageState::Running;
    }

    fn runnable(st: &State, i: usize) -> bool {
        match st.stages[i] {
            StageState::NotStarted => true,
            StageState::Reading(p) => !st.pipes[p].buf.is_empty() || !st.pipes[p].writer_open,
            StageState::Writing(p) => st.pipes[p].buf.len() < PIPE_CAPACITY || !st.pipes[p].reader_open,
            StageState::Running | StageState::Done => false,
        }
    }

    /// Hands the baton to the lowest-numbered stage that can go on.
    fn pass(&self, st: &mut State) {
        if let Some(next) = (0..st.stages.len()).find(|&i| Self::runnable(st, i)) {
            st.current = next;
            self.turn.notify_all();
        }
        // No stage can go on: every stage is done (a linear pipeline cannot
        // deadlock: a reader waits only on an empty pipe, a writer only on a
        // full one).
    }

    /// Stage `me` waits (after [`PipeIo::Wait`]) until it can go on.
    pub fn wait(&self, me: usize) {
        let mut st = self.lock();
        if Self::runnable(&st, me) {
            st.stages[me] = StageState::Running;
            return;
        }
        self.pass(&mut st);
        while st.current != me {
            st = self.turn.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.stages[me] = StageState::Running;
    }

    /// Stage `me` waits until pipe `p` has something to read or its writer
    /// has ended (a poll on its stdin).
    pub fn wait_readable(&self, me: usize, p: usize) {
        self.lock().stages[me] = StageState::Reading(p);
        self.wait(me);
    }

    /// Stage `me` has ended: its pipe ends close and the next stage runs.
    pub fn finish(&self, me: usize) {
        let mut st = self.lock();
        st.stages[me] = StageState::Done;
        if me > 0 {
            st.pipes[me - 1].reader_open = false;
            st.pipes[me - 1].buf.clear();
        }
        if me < st.pipes.len() {
            st.pipes[me].writer_open = false;
        }
        self.pass(&mut st);
    }

    /// Closes the read end of pipe `p` (a guest closed its stdin).
    pub fn close_reader(&self, p: usize) {
        let mut st = self.lock();
        st.pipes[p].reader_open = false;
        st.pipes[p].buf.clear();
    }

    pub fn close_writer(&self, p: usize) {
        self.lock().pipes[p].writer_open = false;
    }

    /// Reads from pipe `p` into `buf`: what is there, 0 at end of input, or
    /// Wait when the pipe is empty and its writer still runs.
    pub fn try_read(&self, me: usize, p: usize, buf: &mut [u8]) -> PipeIo {
        let mut st = self.lock();
        let pipe = &mut st.pipes[p];
        if buf.is_empty() {
            return PipeIo::Done(0);
        }
        if pipe.buf.is_empty() {
            if !pipe.writer_open {
                return PipeIo::Done(0);
            }
            st.stages[me] = StageState::Reading(p);
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

    /// Bytes ready to read in pipe `p` (for poll), or None if empty with a live writer.
    pub fn readable(&self, p: usize) -> Option<u64> {
        let st = self.lock();
        let pipe = &st.pipes[p];
        if pipe.buf.is_empty() && pipe.writer_open {
            None
        } else {
            Some(pipe.buf.len() as u64)
        }
    }

    /// Writes as much of `data` into pipe `p` as fits: Done(n) with n > 0, or
    /// Wait when it is full, or Broken when its reader has gone.
    pub fn try_write(&self, me: usize, p: usize, data: &[u8]) -> PipeIo {
        let mut st = self.lock();
        let pipe = &mut st.pipes[p];
        if !pipe.reader_open {
            return PipeIo::Broken;
        }
        if data.is_empty() {
            return PipeIo::Done(0);
        }
        let room = PIPE_CAPACITY.saturating_sub(pipe.buf.len());
        if room == 0 {
            st.stages[me] = StageState::Writing(p);
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
    fn a_pipeline_streams_more_than_a_pipe_holds_in_a_fixed_order() {
        let l = line();
        l.start_pipeline(2);
        let total = PIPE_CAPACITY * 5 + 17;
        let l2 = l.clone();
        let reader = std::thread::spawn(move || {
            l2.begin(1);
            let r = l2.read_to_end(1, 0, usize::MAX);
            l2.finish(1);
            r.unwrap().len()
        });
        l.begin(0);
        assert!(l.write_all(0, 0, &vec![7u8; total]));
        l.finish(0);
        assert_eq!(reader.join().unwrap(), total);
    }

    #[test]
    fn a_writer_whose_reader_is_gone_is_told_so() {
        let l = line();
        l.start_pipeline(2);
        let l2 = l.clone();
        let reader = std::thread::spawn(move || {
            l2.begin(1);
            let mut b = [0u8; 10];
            let n = loop {
                match l2.try_read(1, 0, &mut b) {
                    PipeIo::Done(n) => break n,
                    PipeIo::Wait => l2.wait(1),
                    PipeIo::Broken => unreachable!(),
                }
            };
            l2.finish(1);
            n
        });
        l.begin(0);
        // The first 64 KiB fit; the reader then takes 10 bytes and leaves.
        assert!(!l.write_all(0, 0, &vec![1u8; PIPE_CAPACITY * 3]));
        l.finish(0);
        assert_eq!(reader.join().unwrap(), 10);
    }

    #[test]
    fn a_stage_waiting_for_input_is_resumed_when_it_arrives() {
        let l = line();
        l.start_pipeline(2);
        let l2 = l.clone();
        let reader = std::thread::spawn(move || {
            l2.begin(1);
            // As a poll on stdin does: wait for data, then read it.
            l2.wait_readable(1, 0);
            let mut b = [0u8; 8];
            let n = match l2.try_read(1, 0, &mut b) {
                PipeIo::Done(n) => n,
                _ => 0,
            };
            l2.finish(1);
            n
        });
        l.begin(0);
        // Stage 0 hands over once (waiting for room is not needed: it ends).
        assert!(l.write_all(0, 0, b"abc"));
        l.finish(0);
        assert_eq!(reader.join().unwrap(), 3);
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
