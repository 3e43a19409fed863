//! A plan for people: one line per action marked like Terraform's `+`/`~`/`-` (green, yellow,
//! red on a terminal), task definition diffs, hooks where they run, then a summary.

use crate::model::HookKind;
use crate::output::Paint;
use crate::plan::{Action, HookRun, Plan, Verb, SERVICES_PHASE};

pub fn plan_text(plan: &Plan, show_diffs: bool, paint: Paint) -> String {
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
        let hook_line = |h: &HookRun| format!("  {} {}\n", paint.bold(">"), h.describe());
        for h in plan.hooks_of(HookKind::BeforeDestroy) {
            out.push_str(&hook_line(h));
        }
        let db_line = plan
            .database
            .as_ref()
            .map(|d| format!("  {} {}\n", paint.bold(">"), d.describe()))
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
                Verb::Create => paint.create("+"),
                Verb::Update => paint.update("~"),
                Verb::Delete => paint.delete("-"),
            };
            out.push_str(&format!("  {mark} {}\n", a.describe()));
            if let (true, Action::RegisterTaskDefinition { diff: Some(d), .. }) = (show_diffs, a) {
                for line in d.lines() {
                    out.push_str(&format!("      {}\n", diff_line(line, paint)));
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
        let mut summary = format!(
            "Plan: {} to create, {} to update, {} to delete",
            s.create, s.update, s.delete
        );
        if plan.hooks.is_empty() {
            summary.push('.');
        } else {
            summary.push_str(&format!(", {} hook(s) to run.", plan.hooks.len()));
        }
        out.push_str(&paint.bold(&summary));
        out.push('\n');
    }
    let flag = paint.warning("!");
    for c in &plan.conflicts {
        out.push_str(&format!("  {flag} conflict: {c}\n"));
    }
    for c in &plan.capacity {
        out.push_str(&format!("  {flag} capacity: {c}\n"));
    }
    for c in &plan.skipped {
        out.push_str(&format!("  {flag} left alone: {c}\n"));
    }
    out
}

/// A unified-diff line coloured by its first character (`+` added, `-` removed).
fn diff_line(line: &str, paint: Paint) -> String {
    if line.starts_with("+++") || line.starts_with("---") {
        paint.bold(line)
    } else if line.starts_with('+') {
        paint.create(line)
    } else if line.starts_with('-') {
        paint.delete(line)
    } else if line.starts_with("@@") {
        paint.dim(line)
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            app: "shop".into(),
            env: "feature-x".into(),
            actions: vec![
                Action::CreateLogGroup {
                    name: "/envctl/shop/feature-x".into(),
                    retention_days: 7,
                    tags: Default::default(),
                },
                Action::SetLogRetention {
                    name: "/envctl/shop/other".into(),
                    from: Some(7),
                    to: 14,
                },
                Action::DeleteLogGroup {
                    name: "/envctl/shop/old".into(),
                },
            ],
            hooks: vec![],
            database: None,
            conflicts: vec![],
            skipped: vec![],
            capacity: vec![],
        }
    }

    #[test]
    fn marks_are_green_yellow_and_red_on_a_terminal() {
        let text = plan_text(&plan(), true, Paint::new(true));
        let line = |needle: &str| {
            text.lines()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{needle}: {text}"))
                .to_string()
        };
        assert!(
            line("feature-x (").starts_with("  \u{1b}[32m+\u{1b}[0m "),
            "{text:?}"
        );
        assert!(
            line("other").starts_with("  \u{1b}[33m~\u{1b}[0m "),
            "{text:?}"
        );
        assert!(
            line("old").starts_with("  \u{1b}[31m-\u{1b}[0m "),
            "{text:?}"
        );
    }

    #[test]
    fn without_colour_the_text_is_the_coloured_text_stripped() {
        let plain = plan_text(&plan(), true, Paint::off());
        let coloured = plan_text(&plan(), true, Paint::new(true));
        assert!(!plain.contains('\u{1b}'), "{plain:?}");
        assert_eq!(anstream::adapter::strip_str(&coloured).to_string(), plain);
        assert!(plain.contains("  + "), "{plain}");
        assert!(
            plain.contains("Plan: 1 to create, 1 to update, 1 to delete."),
            "{plain}"
        );
    }
}
