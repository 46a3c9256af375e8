//! pg_shell's integration tests: one binary, a module per area, all against a
//! real PostgreSQL (a throwaway cluster started once per test process, a fresh
//! database per test) and real wasmtime.

mod support;

mod audit;
mod browser;
mod browser_firefox;
mod ci_replay;
mod cli;
mod cli_http;
mod cli_tty;
mod conformance;
mod core;
mod files;
mod fuzz;
mod gateway;
mod language;
mod live;
mod operations;
mod pipes;
mod posix;
mod postgrest;
mod queue;
mod replay;
mod robustness;
mod sandbox;
mod security;
mod security_db;
mod security_native;
mod security_web;
mod shell;
mod terminal;
mod tools;
mod trees;
mod web;
