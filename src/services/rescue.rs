//! Rescue: hands back at once what executors of this host that died without
//! stopping (kill -9, a crash) still hold, instead of waiting for their
//! leases to run out. Executors of other hosts are left to their leases (the
//! cleanup agent's job).

use anyhow::Result;
use tokio_postgres::Client;
use tracing::info;

/// One pass: releases the commands of this host's dead executors (judged by
/// whether their pid lives); returns how many executors it stopped.
pub async fn run_once(client: &Client, me: &str, host: &str) -> Result<usize> {
    let rows = client
        .query(
            "select id, pid from pgshell.executors where host = $1 and stopped_at is null and id <> $2",
            &[&host, &me],
        )
        .await?;
    let mut released = 0;
    for r in rows {
        let (id, pid): (String, i32) = (r.get(0), r.get(1));
        if !process_alive(pid) {
            client.execute("select pgshell.stop_executor($1)", &[&id]).await?;
            info!(dead_executor = %id, pid, "released the commands of an executor that died on this host");
            released += 1;
        }
    }
    Ok(released)
}

#[cfg(unix)]
fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return true; // unknown: let the lease decide
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: i32) -> bool {
    true
}
