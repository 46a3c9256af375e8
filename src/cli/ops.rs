//! `pg_shell cleanup` and `pg_shell monitor`: the maintenance and metrics
//! agents. Both read and write only through SQL functions (0011), so every
//! client sees the same numbers, and any number of them may run at once.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use super::DbArgs;

/// `15s`, `2m`, `500ms`, `1h`, `1d` or plain seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("{s:?} is not a duration (e.g. 15s, 2m, 500ms, 1h)"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        other => return Err(format!("{s:?}: unknown unit {other:?} (use ms, s, m, h or d)")),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!("{s:?} is not a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// SIGTERM and SIGINT, listened for from the agent's start: a signal that
/// arrives during a pass (or while connecting) is kept and ends the agent
/// after that pass, instead of being lost between two waits.
struct Stop {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Stop {
    fn listen() -> Stop {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Stop { term: signal(SignalKind::terminate()).ok(), int: signal(SignalKind::interrupt()).ok() }
        }
        #[cfg(not(unix))]
        {
            Stop {}
        }
    }

    /// Waits for the next round, or returns false on SIGTERM/SIGINT.
    async fn next_round(&mut self, every: Duration) -> bool {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => true,
                _ = recv(&mut self.term) => false,
                _ = recv(&mut self.int) => false,
            }
        }
        #[cfg(not(unix))]
        {
            tokio::time::timeout(every, tokio::signal::ctrl_c()).await.is_err()
        }
    }
}

#[derive(Args, Debug)]
pub struct Cleanup {
    #[command(flatten)]
    pub db: DbArgs,
    /// Run a pass every DURATION until SIGTERM (default: one pass).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub every: Option<Duration>,
    /// Rows of each kind handled per pass.
    #[arg(long, default_value_t = 100)]
    pub limit: i32,
}

impl Cleanup {
    pub async fn run(self) -> Result<u8> {
        let limit = self.limit;
        rounds(&self.db, self.every, |client| {
            Box::pin(async move {
                let r = crate::services::cleanup::run_once(client, limit).await?;
                println!(
                    "cleanup: {} dead executor(s), {} command(s) handed back, {} lost, {} idle session(s) closed, {} session(s) deleted by retention",
                    r.dead_executors, r.released, r.lost, r.idle_closed, r.retention_deleted
                );
                let g = &r.collected;
                println!(
                    "collected: {} environment(s), {} tree object(s), {} blob(s), {} bytes; {} stale upload(s)",
                    g.environments, g.tree_objects, g.blobs, g.bytes, g.stale_uploads
                );
                Ok(())
            })
        })
        .await
    }
}

type Pass<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + 'a>>;

/// An agent's loop: one `pass`, or one every `every` until SIGTERM/SIGINT.
/// With `every`, a failed pass (the database restarted or is unreachable) is
/// reported on stderr and the connection is made again before the next
/// round, so the agent outlives the database's restarts; a single pass
/// fails with its error.
async fn rounds(db: &DbArgs, every: Option<Duration>, mut pass: impl FnMut(&tokio_postgres::Client) -> Pass<'_>) -> Result<u8> {
    // Listening before anything else, so no signal is lost (see Stop).
    let stop = every.map(|_| Stop::listen());
    let target = db.resolve(false).await?;
    let mut client = crate::db::connect_plain(&target.conninfo).await.context("connecting to the database")?;
    crate::db::migrate(&mut client).await?;
    let (Some(every), Some(mut stop)) = (every, stop) else {
        pass(&client).await?;
        return Ok(0);
    };
    loop {
        if client.is_closed() {
            match crate::db::connect_plain(&target.conninfo).await {
                Ok(c) => {
                    eprintln!("reconnected to the database");
                    client = c;
                }
                Err(e) => eprintln!("the database is unreachable ({e:#}); trying again in {every:?}"),
            }
        }
        if !client.is_closed() {
            if let Err(e) = pass(&client).await {
                eprintln!("pass failed: {e:#}");
            }
        }
        if !stop.next_round(every).await {
            return Ok(0);
        }
    }
}

#[derive(Args, Debug)]
pub struct Monitor {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print every DURATION until SIGTERM (default: once).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub every: Option<Duration>,
    /// Append rows to FILE as CSV (time,metric,labels,value; a header once)
    /// instead of printing a table.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,
    /// Finished commands and replays of this recent window are counted.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", default_value = "1h")]
    pub window: Duration,
}

/// One metric row as `pgshell.metrics` returns it.
pub struct Metric {
    pub name: String,
    pub labels: serde_json::Map<String, serde_json::Value>,
    pub value: f64,
}

pub async fn metrics(client: &tokio_postgres::Client, window: Duration) -> Result<Vec<Metric>> {
    let rows = client
        .query("select name, labels, value from pgshell.metrics(make_interval(secs => $1))", &[&window.as_secs_f64()])
        .await
        .context("reading pgshell.metrics")?;
    Ok(rows
        .iter()
        .map(|r| Metric {
            name: r.get(0),
            labels: match r.get::<_, serde_json::Value>(1) {
                serde_json::Value::Object(m) => m,
                _ => Default::default(),
            },
            value: r.get(2),
        })
        .collect())
}

fn label_text(labels: &serde_json::Map<String, serde_json::Value>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect::<Vec<_>>().join(",")
}

/// Prometheus text exposition (names prefixed `pg_shell_`, label values escaped).
pub fn prometheus(ms: &[Metric]) -> String {
    let mut out = String::new();
    let mut last = "";
    for m in ms {
        if m.name != last {
            out.push_str(&format!("# TYPE pg_shell_{} gauge\n", m.name));
            last = &m.name;
        }
        let labels: Vec<String> = m
            .labels
            .iter()
            .map(|(k, v)| {
                let v = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
                format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
            })
            .collect();
        let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
        out.push_str(&format!("pg_shell_{}{labels} {}\n", m.name, m.value));
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Monitor {
    pub async fn run(self) -> Result<u8> {
        let (window, csv) = (self.window, self.csv.clone());
        rounds(&self.db, self.every, |client| {
            let csv = csv.clone();
            Box::pin(async move { report(client, window, csv.as_deref()).await })
        })
        .await
    }
}

/// One monitor round: the metrics as a table on stdout, or appended to `csv`.
async fn report(client: &tokio_postgres::Client, window: Duration, csv: Option<&std::path::Path>) -> Result<()> {
    let ms = metrics(client, window).await?;
    let now: String = client
        .query_one("select to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", &[])
        .await?
        .get(0);
    match csv {
        Some(path) => {
            let fresh = std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true);
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            let mut text = String::new();
            if fresh {
                text.push_str("time,metric,labels,value\n");
            }
            for m in &ms {
                text.push_str(&format!("{now},{},{},{}\n", csv_field(&m.name), csv_field(&label_text(&m.labels)), m.value));
            }
            f.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let width = ms.iter().map(|m| m.name.len() + label_text(&m.labels).len() + 2).max().unwrap_or(10);
            println!("pg_shell at {now}");
            for m in &ms {
                let l = label_text(&m.labels);
                let key = if l.is_empty() { m.name.clone() } else { format!("{}{{{l}}}", m.name) };
                println!("  {key:<width$} {}", trim_float(m.value));
            }
        }
    }
    Ok(())
}

fn trim_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.6}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_or_say_why_not() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        for bad in ["", "s", "-1s", "0", "5 parsecs", "1e999", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prometheus_text_escapes_label_values() {
        let mut labels = serde_json::Map::new();
        labels.insert("user".into(), serde_json::Value::String("a\"b\\c\nd".into()));
        let text = prometheus(&[
            Metric { name: "user_fuel_total".into(), labels, value: 12.0 },
            Metric { name: "queue_depth".into(), labels: Default::default(), value: 0.5 },
        ]);
        assert_eq!(
            text,
            "# TYPE pg_shell_user_fuel_total gauge\npg_shell_user_fuel_total{user=\"a\\\"b\\\\c\\nd\"} 12\n# TYPE pg_shell_queue_depth gauge\npg_shell_queue_depth 0.5\n"
        );
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
