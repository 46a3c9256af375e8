//! `pg_shell cp`: copy a file between the local disk and a session
//! (`pg_shell cp ./data.csv SESSION:/data.csv`, and back).
//!
//! A copy is a command of the session like any other, so it is recorded,
//! audited, in the environment chain and replayed bit for bit: into a
//! session, `base64 -d > PATH <<'EOF'` with the file's bytes in base64 in the
//! line itself (so the line's `max_line_bytes` bounds the size: ~48 KiB by
//! default); out of one, `base64 PATH`, decoded here (bounded by the
//! session's `stdout_bytes`). Paths are checked before anything is sent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::Args;
use uuid::Uuid;

use super::run::ClientArgs;

#[derive(Args, Debug)]
pub struct Cp {
    #[command(flatten)]
    pub client: ClientArgs,
    /// What to copy: a local path, or SESSION:PATH.
    pub from: String,
    /// Where to: SESSION:PATH, or a local path (a directory takes the file's name).
    pub to: String,
    /// Seconds to wait for the copy's command.
    #[arg(long, default_value_t = 600)]
    pub wait: u64,
}

/// Local files larger than this are refused before they are read.
const MAX_LOCAL_BYTES: u64 = 64 << 20;
const HEREDOC_END: &str = "PG_SHELL_CP_END";

/// One side of a copy.
#[derive(Debug, PartialEq)]
enum Place {
    Local(PathBuf),
    Session(Uuid, String),
}

fn place(arg: &str) -> Result<Place> {
    if let Some((id, path)) = arg.split_once(':') {
        if let Ok(id) = Uuid::parse_str(id) {
            return Ok(Place::Session(id, session_path(path)?));
        }
    }
    Ok(Place::Local(PathBuf::from(arg)))
}

/// A path inside a session, checked: non-empty, no NUL or newline, no `..`
/// (the session's root has nothing above it, and a copy says where it goes).
fn session_path(p: &str) -> Result<String> {
    if p.is_empty() {
        bail!("the session path is empty (write SESSION:/path/to/file)");
    }
    if p.contains(['\0', '\n', '\r']) {
        bail!("the session path {p:?} holds a NUL or line break");
    }
    if p.split('/').any(|c| c == "..") {
        bail!("the session path {p:?} has a `..` component; name the file directly");
    }
    if p.ends_with('/') || p.split('/').last() == Some(".") {
        bail!("the session path {p:?} names a directory; name the file (SESSION:/dir/name)");
    }
    if p.len() > 4096 {
        bail!("the session path is {} bytes long (at most 4096)", p.len());
    }
    Ok(p.to_string())
}

/// The line that writes `data` to `path` in a session.
fn upload_line(path: &str, data: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let mut line = format!("base64 -d > {} <<'{HEREDOC_END}'\n", shell_words::quote(path));
    for chunk in b64.as_bytes().chunks(76) {
        line.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        line.push('\n');
    }
    line.push_str(HEREDOC_END);
    line
}

impl Cp {
    pub async fn run(self) -> Result<u8> {
        let (from, to) = (place(&self.from)?, place(&self.to)?);
        let (mut client, ex) = match (&from, &to) {
            (Place::Local(_), Place::Local(_)) => bail!("neither side is in a session: write one as SESSION:/path (the session's id)"),
            (Place::Session(..), Place::Session(..)) => bail!("both sides are in sessions: copy through the local disk, or with `cp` inside the session"),
            _ => self.client.connect().await?,
        };
        let wait = Duration::from_secs(self.wait);
        let result = match (from, to) {
            (Place::Local(local), Place::Session(session, path)) => {
                let meta = std::fs::metadata(&local).with_context(|| format!("reading {}", local.display()))?;
                if !meta.is_file() {
                    bail!("{} is not a regular file", local.display());
                }
                if meta.len() > MAX_LOCAL_BYTES {
                    bail!("{} is {} bytes; pg_shell cp copies files of at most {} bytes", local.display(), meta.len(), MAX_LOCAL_BYTES);
                }
                let data = std::fs::read(&local).with_context(|| format!("reading {}", local.display()))?;
                let line = upload_line(&path, &data);
                let id = client.submit(session, &line).await.map_err(|e| {
                    let too_long = format!("{e:#}").contains("SQLSTATE 22001");
                    if too_long {
                        e.context(format!(
                            "{} is {} bytes, {} in base64: too large to copy in one command line (the max_line_bytes setting bounds it)",
                            local.display(),
                            data.len(),
                            line.len()
                        ))
                    } else {
                        e
                    }
                })?;
                let c = client.wait(id, wait).await?;
                if c.status != "done" || c.exit_code != Some(0) {
                    bail!("copying into {session}:{path} failed ({} {}): {}", c.status, c.outcome(), c.stderr().trim_end());
                }
                eprintln!("copied {} bytes to {session}:{path} (command {id})", data.len());
                Ok(0)
            }
            (Place::Session(session, path), Place::Local(local)) => {
                let target = if local.is_dir() {
                    let name = Path::new(&path).file_name().context("the session path has no file name")?;
                    local.join(name)
                } else {
                    local
                };
                let c = client.run(session, &format!("base64 -w 0 {}", shell_words::quote(&path))).await?;
                if c.stdout_truncated == Some(true) {
                    bail!("{session}:{path} is larger than the session's stdout limit allows to copy out (stdout_bytes, in base64)");
                }
                if c.status != "done" || c.exit_code != Some(0) {
                    bail!("reading {session}:{path} failed ({} {}): {}", c.status, c.outcome(), c.stderr().trim_end());
                }
                let data = base64::engine::general_purpose::STANDARD
                    .decode(c.stdout().trim_end())
                    .context("decoding the file's base64")?;
                std::fs::write(&target, &data).with_context(|| format!("writing {}", target.display()))?;
                eprintln!("copied {} bytes from {session}:{path} to {} (command {})", data.len(), target.display(), c.id);
                Ok(0)
            }
            _ => unreachable!("checked above"),
        };
        if let Some(ex) = ex {
            ex.stop().await?;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_and_hostile_paths() {
        let id = Uuid::new_v4();
        assert_eq!(place(&format!("{id}:/a/b.csv")).unwrap(), Place::Session(id, "/a/b.csv".into()));
        assert_eq!(place("./x:y").unwrap(), Place::Local("./x:y".into()));
        for bad in ["", "/a/../etc", "..", "/d/", "a\nb", "x\0", "/d/."] {
            assert!(place(&format!("{id}:{bad}")).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_upload_line_quotes_the_path() {
        let line = upload_line("/it's here; rm -rf x", b"hi");
        let (first, rest) = line.split_once('\n').unwrap();
        let words = shell_words::split(first.trim_end_matches(" <<'PG_SHELL_CP_END'")).unwrap();
        assert_eq!(words, ["base64", "-d", ">", "/it's here; rm -rf x"], "{line}");
        assert_eq!(rest, "aGk=\nPG_SHELL_CP_END");
    }
}
