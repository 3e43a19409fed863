//! Everything envctl shows: data on stdout (tables or JSON, safe to pipe), and progress, logs and
//! hints on stderr. Progress is a spinner on a TTY, plain lines otherwise, nothing with `-q`.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use comfy_table::{presets, ContentArrangement, Table};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::apply::Observer;
use crate::aws::CallStats;
use crate::model::HookKind;
use crate::model::{ServiceReport, Stability};
use crate::plan::{Action, Plan, Verb, SERVICES_PHASE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    pub verbose: bool,
    stderr_tty: bool,
}

impl Printer {
    pub fn new(format: Format, quiet: bool, verbose: bool) -> Self {
        Printer {
            format,
            quiet,
            verbose,
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Data for stdout, as JSON.
    pub fn json<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        println!("{text}");
    }

    /// Data for stdout, as text.
    pub fn text(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", text.as_ref());
    }

    /// A human status line on stderr (suppressed by `-q`).
    pub fn status(&self, text: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", text.as_ref());
        }
    }

    pub fn warn(&self, text: impl AsRef<str>) {
        eprintln!("warning: {}", text.as_ref());
    }

    pub fn table(&self, headers: &[&str], rows: Vec<Vec<String>>) -> String {
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

    /// An observer for `apply` that draws progress on stderr.
    pub fn progress(&self) -> Progress {
        Progress::new(self.quiet, self.stderr_tty && !self.verbose)
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

    /// `--stats`: API calls per service and operation, and the wall time, on stderr.
    pub fn stats(&self, stats: &CallStats, elapsed: Duration) {
        let calls = stats.snapshot();
        let total: u64 = calls.iter().map(|c| c.calls).sum();
        let writes: u64 = calls.iter().filter(|c| c.write).map(|c| c.calls).sum();
        if self.is_json() {
            let v = serde_json::json!({
                "stats": { "calls": calls, "total_calls": total, "write_calls": writes, "wall_ms": elapsed.as_millis() as u64 }
            });
            eprintln!("{v}");
            return;
        }
        let rows = calls
            .iter()
            .map(|c| {
                vec![
                    c.service.clone(),
                    c.operation.clone(),
                    c.calls.to_string(),
                    if c.write { "write" } else { "read" }.into(),
                ]
            })
            .collect();
        eprintln!(
            "{}",
            self.table(&["SERVICE", "OPERATION", "CALLS", "KIND"], rows)
        );
        eprintln!(
            "stats: {total} API calls ({writes} writes) in {:.2}s",
            elapsed.as_secs_f64()
        );
    }
}

/// The per-service table `up` and `status` print.
pub fn services_table(printer: &Printer, services: &[ServiceReport]) -> String {
    let rows = services
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.desired.to_string(),
                s.running.to_string(),
                s.pending.to_string(),
                s.task_definition.clone(),
                s.capacity.clone(),
                match &s.stability {
                    Stability::Stable => "stable".to_string(),
                    Stability::InProgress(_) => "deploying".to_string(),
                    Stability::Failed(_) => "failed".to_string(),
                },
            ]
        })
        .collect();
    printer.table(
        &[
            "SERVICE",
            "DESIRED",
            "RUNNING",
            "PENDING",
            "TASK DEFINITION",
            "CAPACITY",
            "STATE",
        ],
        rows,
    )
}

/// Renders a plan for people: one line per action, task definition diffs, then a summary.
pub fn plan_text(plan: &Plan, show_diffs: bool) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        out.push_str(&format!(
            "No changes: env `{}` of app `{}` is up to date.\n",
            plan.env, plan.app
        ));
    } else {
        out.push_str(&format!(
            "Plan for env `{}` of app `{}`:\n",
            plan.env, plan.app
        ));
        // Hooks in the order they run relative to the actions around them.
        let hook_line = |h: &crate::plan::HookRun| format!("  > {}\n", h.describe());
        for h in plan.hooks_of(HookKind::BeforeDestroy) {
            out.push_str(&hook_line(h));
        }
        let db_line = plan
            .database
            .as_ref()
            .map(|d| format!("  > {}\n", d.describe()))
            .unwrap_or_default();
        let drop = plan
            .database
            .as_ref()
            .is_some_and(|d| d.op == crate::database::DbOp::Drop);
        if drop {
            out.push_str(&db_line);
        }
        let mut before_deploy_shown = false;
        for a in &plan.actions {
            if !before_deploy_shown && a.phase() >= SERVICES_PHASE {
                if !drop {
                    out.push_str(&db_line);
                }
                for h in plan.hooks_of(HookKind::BeforeDeploy) {
                    out.push_str(&hook_line(h));
                }
                before_deploy_shown = true;
            }
            let mark = match a.verb() {
                Verb::Create => '+',
                Verb::Update => '~',
                Verb::Delete => '-',
            };
            out.push_str(&format!("  {mark} {}\n", a.describe()));
            if let (true, Action::RegisterTaskDefinition { diff: Some(d), .. }) = (show_diffs, a) {
                for line in d.lines() {
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
        if !before_deploy_shown {
            if !drop {
                out.push_str(&db_line);
            }
            for h in plan.hooks_of(HookKind::BeforeDeploy) {
                out.push_str(&hook_line(h));
            }
        }
        for h in plan.hooks_of(HookKind::AfterCreate) {
            out.push_str(&hook_line(h));
        }
        let s = plan.summary();
        out.push_str(&format!(
            "Plan: {} to create, {} to update, {} to delete",
            s.create, s.update, s.delete
        ));
        if plan.hooks.is_empty() {
            out.push_str(".\n");
        } else {
            out.push_str(&format!(", {} hook(s) to run.\n", plan.hooks.len()));
        }
    }
    for c in &plan.conflicts {
        out.push_str(&format!("  ! conflict: {c}\n"));
    }
    for c in &plan.capacity {
        out.push_str(&format!("  ! capacity: {c}\n"));
    }
    for c in &plan.skipped {
        out.push_str(&format!("  ! left alone: {c}\n"));
    }
    out
}

/// Apply progress: a spinner per action on a TTY, plain lines otherwise.
pub struct Progress {
    quiet: bool,
    bars: Option<MultiProgress>,
    active: Mutex<Vec<(String, ProgressBar)>>,
}

impl Progress {
    fn new(quiet: bool, tty: bool) -> Self {
        Progress {
            quiet,
            bars: (tty && !quiet).then(MultiProgress::new),
            active: Mutex::new(vec![]),
        }
    }
}

impl Observer for Progress {
    fn started(&self, action: &Action) {
        if self.quiet {
            return;
        }
        let line = action.describe();
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
            None => eprintln!("  … {line}"),
        }
    }

    fn finished(&self, action: &Action, error: Option<&crate::error::Error>) {
        if self.quiet && error.is_none() {
            return;
        }
        let line = action.describe();
        let done = match error {
            None => format!("  ✓ {line}"),
            Some(e) => format!("  ✗ {line}: {e}"),
        };
        if self.bars.is_some() {
            let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = active.iter().position(|(l, _)| *l == line) {
                let (_, pb) = active.remove(i);
                pb.finish_with_message(done.trim_start().to_string());
                return;
            }
        }
        eprintln!("{done}");
    }
}
