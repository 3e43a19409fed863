//! `envctl man`: the man page (roff) on stdout, made from the same clap command main parses
//! with, so it lists every command, flag and example the help shows.

use std::io::Write;

use crate::error::{exit, Error, Result};

pub fn run() -> Result<i32> {
    let mut page = Vec::new();
    clap_mangen::Man::new(crate::cli::command())
        .render(&mut page)
        .map_err(|e| Error::io("rendering the man page", e))?;
    std::io::stdout()
        .write_all(&page)
        .map_err(|e| Error::io("writing the man page", e))?;
    Ok(exit::OK)
}
