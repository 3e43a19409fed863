//! `envctl man`: the man page (roff) on stdout, or with `--dir` one page per command, made from
//! the same clap command main parses with, so they list every command and flag the help shows.

use std::io::Write;

use crate::cli::ManArgs;
use crate::error::{exit, Error, Result};
use crate::ops::Session;

pub fn run(session: &Session, args: ManArgs) -> Result<i32> {
    let mut cmd = crate::cli::command();
    // Subcommands are named `envctl-up` and so on only once the command is built.
    cmd.build();
    if let Some(dir) = args.dir {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        clap_mangen::generate_to(cmd, &dir)
            .map_err(|e| Error::io(format!("writing man pages into {}", dir.display()), e))?;
        session.printer.status(format!(
            "Wrote envctl.1 and a page per command into {}",
            dir.display()
        ));
        return Ok(exit::OK);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .date(env!("ENVCTL_BUILD_DATE"))
        .render(&mut page)
        .map_err(|e| Error::io("rendering the man page", e))?;
    std::io::stdout()
        .write_all(&page)
        .map_err(|e| Error::io("writing the man page", e))?;
    Ok(exit::OK)
}
