//! A native program's stdout/stderr capture: keeps the first N bytes, drops
//! the rest and records that it did (never fails the writer, so
//! `yes | head`-style programs finish). WASI guests write to the line's sinks
//! (`runtime::line::Sink`) instead.

use std::sync::{Arc, Mutex};

use super::line::Sink;

/// A cloneable handle on one [`Sink`]; all clones write to the same buffer.
#[derive(Clone)]
pub struct CappedPipe(Arc<Mutex<Sink>>);

impl CappedPipe {
    pub fn new(cap: usize) -> CappedPipe {
        CappedPipe(Arc::new(Mutex::new(Sink::new(cap))))
    }

    pub fn push(&self, bytes: &[u8]) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(bytes);
    }

    /// The kept bytes and whether anything was dropped.
    pub fn take(&self) -> (Vec<u8>, bool) {
        let (kept, dropped) = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        (kept, dropped > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_head_and_records_the_drop() {
        let p = CappedPipe::new(5);
        p.push(b"abc");
        p.push(b"defgh");
        assert_eq!(p.take(), (b"abcde".to_vec(), true));
        let q = CappedPipe::new(5);
        q.push(b"abcde");
        assert_eq!(q.take(), (b"abcde".to_vec(), false));
    }
}
