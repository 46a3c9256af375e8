//! pg_shell: parse the command line, set up logging, dispatch, report errors.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = pg_shell::cli::Cli::parse();
    pg_shell::cli::init_tracing(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pg_shell: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let result = runtime.block_on(cli.command.run());
    // Guest work still on blocking threads (an executor past its grace
    // period handed it back already) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("pg_shell: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
