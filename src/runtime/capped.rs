//! An output stream for a guest's stdout/stderr that keeps the first N bytes,
//! drops the rest and records that it did.
//!
//! wasmtime-wasi's `MemoryOutputPipe` fails the guest's write once full, and
//! Rust guests then panic and trap (shared/notes/wasmtime-48.md). A shell must
//! instead let `yes | head`-style programs finish, so this pipe never fails.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    cap: usize,
    dropped: u64,
}

/// A cloneable handle; all clones write to the same buffer.
#[derive(Clone)]
pub struct CappedPipe(Arc<Mutex<State>>);

impl CappedPipe {
    pub fn new(cap: usize) -> CappedPipe {
        CappedPipe(Arc::new(Mutex::new(State { cap, ..State::default() })))
    }

    pub fn push(&self, bytes: &[u8]) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let room = s.cap.saturating_sub(s.buf.len());
        let keep = room.min(bytes.len());
        s.buf.extend_from_slice(&bytes[..keep]);
        s.dropped += (bytes.len() - keep) as u64;
    }

    /// The kept bytes and whether anything was dropped.
    pub fn take(&self) -> (Vec<u8>, bool) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        (std::mem::take(&mut s.buf), s.dropped > 0)
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1 << 20)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
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
