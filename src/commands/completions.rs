//! `envctl completions SHELL`: a completion script on stdout, made from the same clap command
//! main parses with.

use crate::cli::CompletionsArgs;
use crate::error::{exit, Result};

pub fn run(args: CompletionsArgs) -> Result<i32> {
    let mut cmd = crate::cli::command();
    clap_complete::generate(args.shell, &mut cmd, "envctl", &mut std::io::stdout());
    Ok(exit::OK)
}
