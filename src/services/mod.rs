//! Maintenance services that run beside the executor (and, later, the
//! cleanup agent): one file each, each with a `run_once()` that does one
//! pass and returns what it did, so tests call a pass instead of sleeping.

pub mod anchor;
pub mod cleanup;
pub mod gc;
pub mod replay_agent;
pub mod rescue;
