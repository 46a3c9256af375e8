//! `pg_shell shell`: an interactive session. Each line is submitted to the
//! queue, with the terminal the user types at, and its recorded result
//! printed; the prompt shows the session's cwd.
//!
//! At a terminal, lines are read with rustyline (history from the session's
//! own record: up/down, Ctrl-R; Tab completes program names, builtins and
//! the session's file names through `api.program_names` and
//! `api.session_files`). Ctrl-C while a command runs cancels it through
//! `api.cancel` and prints its cancelled outcome; at the prompt it clears the
//! line; Ctrl-D leaves. With stdin not a terminal, lines are read one by one
//! as they come, as before.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::History;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Editor, Helper};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::client::{Client, Follow};
use super::run::{print_notes, ClientArgs};
use crate::client::{CommandView, Terminal};

#[derive(Args, Debug)]
pub struct Shell {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Resume this session instead of opening a new one (its last 20 commands are shown).
    #[arg(long, short = 's')]
    pub session: Option<Uuid>,
    /// Title of a new session.
    #[arg(long)]
    pub title: Option<String>,
}

/// How many of a resumed session's commands are shown.
const RESUME_SHOWN: usize = 20;

impl Shell {
    pub async fn run(self) -> Result<u8> {
        let (client, ex) = self.client.connect_any().await?;
        let result = self.run_with(&client).await;
        let _ = client.logout().await;
        if let Some(ex) = ex {
            ex.stop().await?;
        }
        result
    }

    async fn run_with(&self, client: &Client) -> Result<u8> {
        let session = match self.session {
            Some(s) => s,
            None => client.create_session(self.title.as_deref()).await?,
        };
        let interactive = std::io::stdin().is_terminal();
        let history = client.history(session).await?;
        if interactive {
            eprintln!("pg_shell session {session} (exit or Ctrl-D to leave; `help` lists commands)");
        }
        if self.session.is_some() {
            show_resumed(&history);
        }
        // A second connection: cancelling and completing while the first waits.
        let side = Arc::new(client.another().await?);
        if interactive {
            let cwd = client.session(session).await?["cwd"].as_str().unwrap_or("/").to_string();
            interactive_loop(client, side, session, cwd, &history).await
        } else {
            piped_loop(client, &side, session).await
        }
    }
}

/// A resumed session's last commands, on stderr (stdout is the commands' output).
fn show_resumed(history: &[CommandView]) {
    let from = history.len().saturating_sub(RESUME_SHOWN);
    if history.is_empty() {
        eprintln!("resumed: no commands yet");
        return;
    }
    eprintln!("resumed: {} commands{}", history.len(), if from > 0 { format!(", the last {RESUME_SHOWN}:") } else { ":".into() });
    for c in &history[from..] {
        let how = match (c.status.as_str(), c.exit_code) {
            ("done", Some(0)) => String::new(),
            ("done", Some(x)) => format!("  [{} {x}]", c.outcome()),
            (st, _) => format!("  [{st}]"),
        };
        eprintln!("{:>5}  {}{how}", c.seq, c.line);
    }
}

/// The terminal this process writes to: stdout's tty-ness, TERM, and its
/// size (the tty's, else COLUMNS/LINES from the environment).
pub fn this_terminal() -> Terminal {
    let tty = std::io::stdout().is_terminal();
    let (mut columns, mut lines) = (None, None);
    #[cfg(unix)]
    if tty {
        // SAFETY: TIOCGWINSZ fills a winsize; fd 1 is open.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0 {
            columns = Some(ws.ws_col.min(10_000));
            lines = Some(ws.ws_row.clamp(1, 10_000));
        }
    }
    let env_num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u16>().ok()).filter(|n| (1..=10_000).contains(n));
    columns = columns.or_else(|| env_num("COLUMNS"));
    lines = lines.or_else(|| env_num("LINES"));
    let term = std::env::var("TERM")
        .ok()
        .filter(|t| !t.is_empty() && t.len() <= 64 && t.chars().all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c)) && t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()));
    Terminal { tty, term, columns, lines }
}

/// What a line read asks for.
enum Read<'a> {
    Blank,
    Leave,
    Run(&'a str),
}

fn read_line(line: &str) -> Read<'_> {
    match line.trim() {
        "" => Read::Blank,
        "exit" | "logout" => Read::Leave,
        _ => Read::Run(line),
    }
}

/// One line: submitted with this terminal, its output printed as it
/// arrives, then its notes. None when it could not be submitted (said on
/// stderr).
async fn run_line(client: &Client, side: &Client, session: Uuid, line: &str) -> Result<Option<CommandView>> {
    let id = match client.submit(session, line, Some(&this_terminal())).await {
        Ok(id) => id,
        Err(e) => {
            eprintln!("pg_shell: {e:#}");
            return Ok(None);
        }
    };
    let c = follow_or_cancel(client, side, id).await?;
    print_notes(&c)?;
    Ok(Some(c))
}

/// Today's behaviour for a script on stdin: each line as it comes. A Ctrl-C
/// cancels the running command (through `api.cancel`) and ends the script,
/// as SIGINT ends a shell script.
async fn piped_loop(client: &Client, side: &Client, session: Uuid) -> Result<u8> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut last = 0u8;
    while let Some(line) = lines.next_line().await? {
        let line = match read_line(&line) {
            Read::Blank => continue,
            Read::Leave => break,
            Read::Run(l) => l,
        };
        let Some(c) = run_line(client, side, session, line).await? else {
            last = 2;
            continue;
        };
        last = super::run::exit_status(&c);
        if c.status == "cancelled" {
            break;
        }
    }
    Ok(last)
}

/// A request to the editor's thread: read a line with this prompt.
type ReadRequest = (String, oneshot::Sender<Result<String, ReadlineError>>);

async fn interactive_loop(client: &Client, side: Arc<Client>, session: Uuid, mut cwd: String, history: &[CommandView]) -> Result<u8> {
    let programs = side.program_names().await.unwrap_or_else(|e| {
        eprintln!("pg_shell: program names for Tab completion unavailable: {e:#}");
        Vec::new()
    });
    let helper = Completion {
        side: side.clone(),
        session,
        handle: tokio::runtime::Handle::current(),
        commands: {
            let mut names: Vec<String> = crate::shell::builtin_names().map(str::to_owned).chain(programs).collect();
            names.sort();
            names.dedup();
            names
        },
    };
    let config = Config::builder().completion_type(CompletionType::List).auto_add_history(false).max_history_size(10_000)?.build();
    let mut editor: Editor<Completion, rustyline::history::DefaultHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(helper));
    for c in history {
        let _ = editor.history_mut().add(&c.line);
    }
    // rustyline blocks: it reads on a thread of its own, a line per request.
    let (tx, mut rx) = mpsc::channel::<ReadRequest>(1);
    let editor_thread = std::thread::spawn(move || {
        while let Some((prompt, reply)) = rx.blocking_recv() {
            let r = editor.readline(&prompt);
            if let Ok(line) = &r {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
            }
            if reply.send(r).is_err() {
                break;
            }
        }
    });
    let user = client.user.clone();
    let mut last = 0u8;
    loop {
        let (reply, answer) = oneshot::channel();
        tx.send((format!("{user}:{cwd}$ "), reply)).await.context("the line editor stopped")?;
        let line = match answer.await.context("the line editor stopped")? {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue, // Ctrl-C at the prompt: a fresh line
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("reading a line"),
        };
        let line = match read_line(&line) {
            Read::Blank => continue,
            Read::Leave => break,
            Read::Run(l) => l,
        };
        let Some(c) = run_line(client, &side, session, line).await? else {
            last = 2;
            continue;
        };
        last = super::run::exit_status(&c);
        if let Some(after) = &c.cwd_after {
            cwd = after.clone();
        }
    }
    drop(tx);
    let _ = editor_thread.join();
    Ok(last)
}

/// Follows the command, printing its output as it arrives; a Ctrl-C
/// meanwhile asks `api.cancel` for it and goes on following it to the
/// outcome the executor records.
async fn follow_or_cancel(client: &Client, side: &Client, id: i64) -> Result<CommandView> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    let mut f = Follow::new(id);
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    tokio::select! {
        c = client.follow(&mut f, deadline, &mut out, &mut err) => return c,
        r = tokio::signal::ctrl_c() => r.context("listening for Ctrl-C")?,
    }
    eprintln!("^C");
    let asked = side.cancel(id).await?;
    if !asked {
        eprintln!("pg_shell: command {id} had already finished");
    }
    let c = client.follow(&mut f, deadline, &mut out, &mut err).await?;
    if c.status == "cancelled" {
        eprintln!("pg_shell: command {id} cancelled (outcome {})", if c.outcome().is_empty() { "cancelled" } else { c.outcome() });
    }
    std::io::stderr().flush()?;
    Ok(c)
}

/// Tab completion: a command word from the builtins and programs, any
/// other word from the session's files (`api.session_files`).
struct Completion {
    side: Arc<Client>,
    session: Uuid,
    handle: tokio::runtime::Handle,
    commands: Vec<String>,
}

/// Characters a word ends at, for completion.
const BREAKS: &[char] = &[' ', '\t', ';', '|', '&', '<', '>', '(', ')', '`'];

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &rustyline::Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, word, command_word) = word_at(line, pos);
        if command_word && !word.contains('/') {
            let pairs = self
                .commands
                .iter()
                .filter(|n| n.starts_with(word))
                .map(|n| Pair { display: n.clone(), replacement: format!("{n} ") })
                .collect();
            return Ok((start, pairs));
        }
        let unescaped = unescape(word);
        let files = match self.handle.block_on(self.side.files(self.session, &unescaped, 200)) {
            Ok(f) => f,
            Err(_) => return Ok((start, Vec::new())),
        };
        let dir = match unescaped.rfind('/') {
            Some(i) => &unescaped[..=i],
            None => "",
        };
        let pairs = files
            .into_iter()
            .map(|(name, kind)| {
                let end = if kind == "dir" { "/" } else { " " };
                Pair { display: format!("{name}{}", if kind == "dir" { "/" } else { "" }), replacement: format!("{}{end}", escape(&format!("{dir}{name}"))) }
            })
            .collect();
        Ok((start, pairs))
    }
}

/// The word being typed at `pos`: where it starts, its text, and whether it
/// stands where a command name goes (first in the line or after `;`, `|`,
/// `&`, `(`).
fn word_at(line: &str, pos: usize) -> (usize, &str, bool) {
    let before = &line[..pos];
    let mut start = pos;
    let mut chars = before.char_indices().rev().peekable();
    while let Some((i, c)) = chars.next() {
        let escaped = before[..i].ends_with('\\') && !before[..i].ends_with("\\\\");
        if BREAKS.contains(&c) && !escaped {
            break;
        }
        start = i;
    }
    let rest = before[..start].trim_end();
    let command_word = rest.is_empty() || rest.ends_with([';', '|', '&', '(', '`']) || rest.ends_with("$(");
    (start, &before[start..], command_word)
}

fn unescape(word: &str) -> String {
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else if c != '\'' && c != '"' {
            out.push(c);
        }
    }
    out
}

/// A path as a shell word: what the shell would take specially, escaped.
fn escape(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        if " \t\n'\"\\$`!*?[]{}()<>|&;#~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Hinter for Completion {
    type Hint = String;
}
impl Highlighter for Completion {}
impl Validator for Completion {}
impl Helper for Completion {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_their_positions() {
        assert_eq!(word_at("ca", 2), (0, "ca", true));
        assert_eq!(word_at("cat rea", 7), (4, "rea", false));
        assert_eq!(word_at("ls | so", 7), (5, "so", true));
        assert_eq!(word_at("echo a; gr", 10), (8, "gr", true));
        assert_eq!(word_at("cat with\\ sp", 12), (4, "with\\ sp", false));
        assert_eq!(word_at("cat ", 4), (4, "", false));
        assert_eq!(word_at("x=$(ec", 6), (4, "ec", true));
    }

    #[test]
    fn escaping_round_trips() {
        for p in ["with space", "a'b", "plain", "d/$x*"] {
            assert_eq!(unescape(&escape(p)), p);
        }
        assert_eq!(escape("with space"), "with\\ space");
    }
}
