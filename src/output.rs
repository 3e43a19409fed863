//! The terminal printer, a leaf: data on stdout (tables or JSON, safe to pipe), and progress,
//! warnings and errors on stderr, coloured only where the stream is a terminal that wants it.
//! What a plan, an env or a table of services looks like lives with the commands that show them
//! (`commands::views`); this module knows streams, colour and spinners, nothing of envctl's types.
//!
//! Colour follows the usual conventions (anstream): `NO_COLOR` set turns it off, then
//! `CLICOLOR_FORCE` set turns it on even when piped, else a terminal gets colour and a pipe or
//! file gets none. Everything written here goes through anstream's streams, which strip escape
//! codes whenever colour is off, so a pipe never sees one ANSI byte.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};
use comfy_table::{presets, ContentArrangement, Table};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Whether escape codes would reach a stream: the same decision anstream makes when writing.
pub fn colours_stdout() -> bool {
    AutoStream::choice(&std::io::stdout()) != ColorChoice::Never
}

/// See [`colours_stdout`].
pub fn colours_stderr() -> bool {
    AutoStream::choice(&std::io::stderr()) != ColorChoice::Never
}

/// Styles text for one stream; with colour off every method returns its input unchanged, so a
/// view built with `Paint::off()` is the plain text a pipe gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    on: bool,
}

impl Paint {
    pub fn new(on: bool) -> Self {
        Paint { on }
    }

    pub fn off() -> Self {
        Paint { on: false }
    }

    pub fn is_on(self) -> bool {
        self.on
    }

    fn style(self, style: Style, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    /// Something created (Terraform's green `+`).
    pub fn create(self, text: &str) -> String {
        self.style(AnsiColor::Green.on_default(), text)
    }

    /// Something deleted (red `-`).
    pub fn delete(self, text: &str) -> String {
        self.style(AnsiColor::Red.on_default(), text)
    }

    /// Something changed in place (yellow `~`).
    pub fn update(self, text: &str) -> String {
        self.style(AnsiColor::Yellow.on_default(), text)
    }

    pub fn error(self, text: &str) -> String {
        self.style(AnsiColor::Red.on_default().bold(), text)
    }

    pub fn warning(self, text: &str) -> String {
        self.style(AnsiColor::Yellow.on_default().bold(), text)
    }

    pub fn bold(self, text: &str) -> String {
        self.style(Style::new().bold(), text)
    }

    pub fn dim(self, text: &str) -> String {
        self.style(Style::new().dimmed(), text)
    }
}

/// `error: MESSAGE` (red label) and `hint: HINT` on stderr: how main reports a failed command.
pub fn print_error(message: &dyn std::fmt::Display, hint: Option<&str>) {
    let paint = Paint::new(colours_stderr());
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{} {message}", paint.error("error:"));
    if let Some(hint) = hint {
        let _ = writeln!(err, "{} {hint}", paint.bold("hint:"));
    }
}

#[derive(Debug, Clone)]
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    pub verbose: bool,
    stderr_tty: bool,
    stdout_colour: bool,
    stderr_colour: bool,
}

impl Printer {
    pub fn new(format: Format, quiet: bool, verbose: bool) -> Self {
        use std::io::IsTerminal;
        Printer {
            format,
            quiet,
            verbose,
            stderr_tty: std::io::stderr().is_terminal(),
            stdout_colour: colours_stdout(),
            stderr_colour: colours_stderr(),
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Styles for what goes to stdout (plans, tables).
    pub fn paint(&self) -> Paint {
        Paint::new(self.stdout_colour)
    }

    /// Styles for what goes to stderr (status lines, warnings, progress).
    pub fn paint_stderr(&self) -> Paint {
        Paint::new(self.stderr_colour)
    }

    /// Data for stdout, as JSON (never coloured: it is for programs).
    pub fn json<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// Data for stdout, as text.
    pub fn text(&self, text: impl AsRef<str>) {
        let mut out = anstream::stdout().lock();
        let _ = writeln!(out, "{}", text.as_ref());
    }

    /// A human status line on stderr (suppressed by `-q`).
    pub fn status(&self, text: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(anstream::stderr().lock(), "{}", text.as_ref());
        }
    }

    /// `warning: TEXT` on stderr, the label in yellow; shown even with `-q`.
    pub fn warn(&self, text: impl AsRef<str>) {
        let label = self.paint_stderr().warning("warning:");
        let _ = writeln!(anstream::stderr().lock(), "{label} {}", text.as_ref());
    }

    /// A line on stderr that is neither status nor warning (`--stats` tables): shown even with
    /// `-q`, since it was asked for.
    pub fn stderr_line(&self, text: impl AsRef<str>) {
        let _ = writeln!(anstream::stderr().lock(), "{}", text.as_ref());
    }

    pub fn table(&self, headers: &[&str], rows: Vec<Vec<String>>) -> String {
        table(headers, rows)
    }

    /// An observer for `apply` that draws progress on stderr.
    pub fn progress(&self) -> Progress {
        Progress::new(
            self.quiet,
            self.stderr_tty && !self.verbose,
            self.paint_stderr(),
        )
    }

    /// A spinner (TTY) or nothing, for waits.
    pub fn spinner(&self, message: &str) -> Option<ProgressBar> {
        if self.quiet || !self.stderr_tty || self.verbose {
            return None;
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(message.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        Some(pb)
    }
}

/// Columns separated by two spaces, a header line first, no borders.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| h.to_string()));
    for r in rows {
        t.add_row(r);
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 2));
    }
    // comfy-table pads every column; trailing spaces make snapshots and diffs noisy.
    t.to_string()
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The width stdout's text should fit, in columns: `COLUMNS` when set (as cargo and gh read
/// it), else the terminal's width; `None` when stdout is not a terminal (a pipe gets every
/// column, like `gh`'s piped output).
pub fn stdout_width() -> Option<usize> {
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return Some(cols);
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0 as usize)
}

/// Apply progress: a spinner per step on a TTY, plain lines otherwise. Steps are named by the
/// caller (apply implements its `Observer` on top of this).
pub struct Progress {
    quiet: bool,
    paint: Paint,
    bars: Option<MultiProgress>,
    active: Mutex<Vec<(String, ProgressBar)>>,
}

impl Progress {
    fn new(quiet: bool, tty: bool, paint: Paint) -> Self {
        Progress {
            quiet,
            paint,
            bars: (tty && !quiet).then(MultiProgress::new),
            active: Mutex::new(vec![]),
        }
    }

    pub fn step_started(&self, line: String) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some(m) => {
                let pb = m.add(ProgressBar::new_spinner());
                pb.set_style(
                    ProgressStyle::with_template("{spinner} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                pb.set_message(line.clone());
                pb.enable_steady_tick(Duration::from_millis(120));
                self.active
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((line, pb));
            }
            None => {
                let _ = writeln!(anstream::stderr().lock(), "  … {line}");
            }
        }
    }

    /// A step ended; `error` is its failure, shown even with `-q`.
    pub fn step_finished(&self, line: String, error: Option<&dyn std::fmt::Display>) {
        if self.quiet && error.is_none() {
            return;
        }
        let done = match error {
            None => format!("{} {line}", self.paint.create("✓")),
            Some(e) => format!("{} {line}: {e}", self.paint.error("✗")),
        };
        if self.bars.is_some() {
            let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = active.iter().position(|(l, _)| *l == line) {
                let (_, pb) = active.remove(i);
                pb.finish_with_message(done);
                return;
            }
        }
        let _ = writeln!(anstream::stderr().lock(), "  {done}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_off_returns_the_text_unchanged() {
        let p = Paint::off();
        assert_eq!(p.create("+"), "+");
        assert_eq!(p.error("error:"), "error:");
    }

    #[test]
    fn paint_on_wraps_in_an_escape_and_a_reset() {
        let p = Paint::new(true);
        let s = p.delete("-");
        assert!(s.starts_with("\u{1b}["), "{s:?}");
        assert!(s.ends_with("\u{1b}[0m"), "{s:?}");
        assert_eq!(anstream::adapter::strip_str(&s).to_string(), "-");
    }
}
