//! pg_shell: a command shell whose whole state lives in PostgreSQL.
//!
//! See ARCHITECTURE.md for the map. In short: `cli` is the binary's face,
//! `executor` claims and runs queued commands, `runtime` runs one command
//! (WASI or native), `env` is the content-addressed environment model,
//! `shell` is the shell language (a POSIX interpreter over brush-parser), `db`/`store`/`client` talk to
//! PostgreSQL, `pgcluster` runs the embedded default database.

pub mod bundled;
pub mod cli;
pub mod client;
pub mod db;
pub mod env;
pub mod executor;
pub mod gateway;
pub mod pgcluster;
pub mod replay;
pub mod run;
pub mod runtime;
pub mod services;
pub mod shell;
pub mod store;
pub mod transfer;
