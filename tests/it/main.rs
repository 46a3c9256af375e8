//! pg_shell's integration tests: one binary, a module per area, all against a
//! real PostgreSQL (a throwaway cluster started once per test process, a fresh
//! database per test) and real wasmtime.

mod support;

mod audit;
mod browser;
mod cli;
mod conformance;
mod core;
mod fuzz;
mod gateway;
mod pipes;
mod queue;
mod replay;
mod robustness;
mod sandbox;
mod security;
mod security_db;
mod shell;
mod trees;
mod web;
