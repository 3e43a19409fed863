//! The envctl binary: parse arguments, run one command, print errors with hints, and exit with
//! the code documented in docs/exit-codes.md.

use std::process::ExitCode;
use std::time::Instant;

use envctl::cli::Cli;
use envctl::error::exit;
use envctl::interrupt;
use envctl::ops::{Session, SessionOptions};

fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    init_logging(cli.global.verbose);
    let started = Instant::now();
    let show_stats = cli.global.stats;
    let session = Session::new(SessionOptions::from(&cli.global));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            envctl::output::print_error(&format!("cannot start the async runtime: {e}"), None);
            return ExitCode::from(exit::FAILURE as u8);
        }
    };
    runtime.block_on(async { interrupt::install() });
    let result = runtime.block_on(envctl::commands::run(&session, cli.command));
    if interrupt::global().is_handling() {
        // The first Ctrl-C is being answered (in-flight steps, then exit 130): the command's
        // own result, cut short by it, is not worth printing.
        loop {
            std::thread::park();
        }
    }
    if show_stats {
        envctl::commands::views::print_stats(&session.printer, &session.stats, started.elapsed());
    }
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            envctl::output::print_error(&e, e.hint().as_deref());
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

fn init_logging(verbose: bool) {
    // The SDK's own warnings end in `Debug` dumps of its types; envctl reports the same
    // failures as readable errors, so they only show with -v (or ENVCTL_LOG).
    let default = if verbose {
        "envctl=debug,warn"
    } else {
        "envctl=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ENVCTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Escape codes only where envctl's own stderr lines get colour: never into a pipe,
        // none with NO_COLOR.
        .with_ansi(envctl::output::colours_stderr())
        .with_target(false)
        .try_init();
}
