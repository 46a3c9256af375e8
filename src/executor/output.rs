//! Live output: what a running command's terminal receives, stored as it is
//! produced. The line's sinks hand the bytes they keep to a [`Tap`]; this
//! drains it every [`FLUSH_EVERY`] (sooner when `runtime::line::TAP_FLUSH_BYTES` wait)
//! into `pgshell.output_chunks` through `pgshell.output_append`, which
//! takes a batch only from the holder of the command's claim. Chunks are at
//! most [`CHUNK_BYTES`], tagged by stream, numbered in the order produced.
//!
//! The interpreter never waits for this: it pushes into memory; the
//! executor's runtime writes. A command that ends before the first flush and
//! wrote to at most one stream stores no chunks (readers take its output
//! from the record), so a short command costs no extra round trip.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::Notify;
use tokio_postgres::Client;
use tracing::warn;

use crate::runtime::line::{Stream, Tap};


/// How often a running command's new output is stored.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// The largest chunk stored.
pub const CHUNK_BYTES: usize = 64 << 10;

/// One command run's live output.
pub(super) struct Streamer {
    pub(super) tap: Arc<Tap>,
    pub(super) wake: Arc<Notify>,
    id: i64,
    token: uuid::Uuid,
    /// The next chunk's number and offset.
    seq: i32,
    offset: i64,
    /// Chunks prepared but not yet stored (their numbers are fixed, so a
    /// batch sent again after a lost answer is the same batch).
    unsent: Vec<(Stream, Vec<u8>)>,
    unsent_seq: i32,
    unsent_offset: i64,
    /// The end of a stream's last segment that is an incomplete UTF-8
    /// character, held for the next flush so each chunk reads as text.
    held: Option<(Stream, Vec<u8>)>,
    stored_any: bool,
    streams_seen: [bool; 2],
    /// The claim is gone: nothing more is stored.
    fenced: bool,
}

impl Streamer {
    pub(super) fn new(id: i64, token: uuid::Uuid) -> Streamer {
        let wake = Arc::new(Notify::new());
        let w = wake.clone();
        Streamer {
            tap: Arc::new(Tap::new(Box::new(move || w.notify_one()))),
            wake,
            id,
            token,
            seq: 0,
            offset: 0,
            unsent: Vec::new(),
            unsent_seq: 0,
            unsent_offset: 0,
            held: None,
            stored_any: false,
            streams_seen: [false; 2],
            fenced: false,
        }
    }

    /// Stores what the tap holds. `last`: the line has ended (nothing is
    /// held back, and a short single-stream command stores nothing).
    pub(super) async fn flush(&mut self, client: &Client, last: bool) {
        let segments = self.tap.take();
        if self.fenced {
            return;
        }
        let mut segments: Vec<(Stream, Vec<u8>)> = self.held.take().into_iter().chain(segments).collect();
        for (s, _) in &segments {
            self.streams_seen[*s as usize] = true;
        }
        if !last {
            if let Some((s, bytes)) = segments.last_mut() {
                let cut = complete_utf8_prefix(bytes);
                if cut < bytes.len() {
                    self.held = Some((*s, bytes.split_off(cut)));
                }
                if bytes.is_empty() {
                    segments.pop();
                }
            }
        } else if !self.stored_any && self.unsent.is_empty() && !(self.streams_seen[0] && self.streams_seen[1]) {
            return;
        }
        if self.unsent.is_empty() {
            self.unsent_seq = self.seq;
            self.unsent_offset = self.offset;
        }
        for (s, bytes) in segments {
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let n = chunk_cut(rest, CHUNK_BYTES);
                self.unsent.push((s, rest[..n].to_vec()));
                self.seq += 1;
                self.offset += n as i64;
                rest = &rest[n..];
            }
        }
        if self.unsent.is_empty() {
            return;
        }
        match self.append(client).await {
            Ok(true) => {
                self.unsent.clear();
                self.stored_any = true;
            }
            Ok(false) => {
                self.fenced = true;
                self.unsent.clear();
            }
            // Tried again at the next flush, the same batch first.
            Err(e) => warn!(error = format!("{e:#}"), command_id = self.id, "storing live output failed"),
        }
    }

    async fn append(&self, client: &Client) -> Result<bool> {
        let streams: Vec<&str> = self.unsent.iter().map(|(s, _)| s.as_str()).collect();
        let data: Vec<&[u8]> = self.unsent.iter().map(|(_, d)| d.as_slice()).collect();
        let first = self.unsent_seq == 0;
        let row = client
            .query_one(
                "select pgshell.output_append($1, $2, $3, $4, $5, $6, $7)",
                &[&self.id, &self.token, &first, &self.unsent_seq, &self.unsent_offset, &streams, &data],
            )
            .await
            .context("pgshell.output_append")?;
        Ok(row.get(0))
    }
}

/// The longest prefix of `b` that does not end inside a UTF-8 character
/// (bytes that are not UTF-8 at all are left where they are).
fn complete_utf8_prefix(b: &[u8]) -> usize {
    for back in 1..=3.min(b.len()) {
        let i = b.len() - back;
        let byte = b[i];
        if byte & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back
        }
        let need = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return b.len(),
        };
        return if back < need { i } else { b.len() };
    }
    b.len()
}

/// Where to end a chunk of at most `max` bytes: before a UTF-8 character
/// that would not fit, when one is within the last 3 bytes.
fn chunk_cut(b: &[u8], max: usize) -> usize {
    if b.len() <= max {
        return b.len();
    }
    let cut = complete_utf8_prefix(&b[..max]);
    if cut == 0 {
        max
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_cuts_never_split_a_character() {
        let s = "aé€😀".as_bytes(); // 1 + 2 + 3 + 4 bytes
        for n in 0..=s.len() {
            let cut = complete_utf8_prefix(&s[..n]);
            assert!(std::str::from_utf8(&s[..cut]).is_ok(), "prefix {n} cut at {cut}");
            assert!(n - cut < 4);
        }
        assert_eq!(complete_utf8_prefix(&[0xff, 0xfe]), 2, "bytes that are not UTF-8 are not held");
        let long = "€".repeat(10);
        let c = chunk_cut(long.as_bytes(), 10);
        assert_eq!(c, 9);
        assert_eq!(chunk_cut(b"abc", 10), 3);
    }
}
