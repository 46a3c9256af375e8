//! `pg_shell cp`: copy a file between the local disk and a session
//! (`pg_shell cp ./data.csv SESSION:/data.csv`, and back).
//!
//! Into a session, a copy is a command of the session like any other, so it
//! is recorded, audited, in the environment chain and replayed bit for bit:
//! `api.upload` queues `cat > 'PATH'` with the file's bytes as its recorded
//! stdin (a blob; bounded by the `max_upload_bytes` setting, 64 MiB by
//! default). Out of one, after the commands queued before it have run, the
//! file's bytes come from `api.session_file` (a read, not a command; nothing
//! bounds it but the file tree's own limits). Paths are checked before
//! anything is sent (and again by the database). With `--url` it works
//! through a gateway like `shell` and `run`; an upload then goes as hex in a
//! JSON body, bounded by the gateway's body limit (`PG_SHELL_BODY_LIMIT`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use uuid::Uuid;

use super::client::Client;
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

/// Local files larger than this are refused before they are read into
/// memory (the database's `max_upload_bytes` setting is the real bound; an
/// upload over it is recorded as refused).
const MAX_LOCAL_BYTES: u64 = 1 << 30;

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

impl Cp {
    pub async fn run(self) -> Result<u8> {
        let (from, to) = (place(&self.from)?, place(&self.to)?);
        let (client, ex) = match (&from, &to) {
            (Place::Local(_), Place::Local(_)) => bail!("neither side is in a session: write one as SESSION:/path (the session's id)"),
            (Place::Session(..), Place::Session(..)) => bail!("both sides are in sessions: copy through the local disk, or with `cp` inside the session"),
            _ => self.client.connect_any().await?,
        };
        let result = copy(&client, from, to, Duration::from_secs(self.wait)).await;
        let _ = client.logout().await;
        if let Some(ex) = ex {
            ex.stop().await?;
        }
        result
    }
}

/// The copy itself; the caller logs out and stops its executor whatever
/// happens here.
async fn copy(client: &Client, from: Place, to: Place, wait: Duration) -> Result<u8> {
    match (from, to) {
        (Place::Local(local), Place::Session(session, path)) => {
            let meta = std::fs::metadata(&local).with_context(|| format!("reading {}", local.display()))?;
            if !meta.is_file() {
                bail!("{} is not a regular file", local.display());
            }
            if meta.len() > MAX_LOCAL_BYTES {
                bail!("{} is {} bytes; pg_shell cp copies files of at most {} bytes", local.display(), meta.len(), MAX_LOCAL_BYTES);
            }
            let data = std::fs::read(&local).with_context(|| format!("reading {}", local.display()))?;
            let id = client.upload(session, &path, &data).await?;
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
            // The files as the commands queued before the copy leave them.
            let pending = client.history(session).await?.into_iter().rev().find(|c| !c.finished());
            if let Some(last) = pending {
                client.wait(last.id, wait).await.context("waiting for the session's queued commands")?;
            }
            let data = client.session_file(session, &path).await.with_context(|| format!("reading {session}:{path}"))?;
            std::fs::write(&target, &data).with_context(|| format!("writing {}", target.display()))?;
            eprintln!("copied {} bytes from {session}:{path} to {}", data.len(), target.display());
            Ok(0)
        }
        _ => bail!("a copy goes between the local disk and a session (SESSION:/path)"),
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
}
