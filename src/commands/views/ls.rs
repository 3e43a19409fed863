//! `envctl ls` as a table that fits the terminal. The columns are one declarative list: each
//! says how to fill a cell, how narrow it may be cut (with `…`), and when it is dropped. Too
//! wide a table first narrows the columns that may be cut, then drops columns in
//! `drop_order` (1 first) until it fits; `--wide` (or no known width: a pipe) shows everything
//! at full width. docs/commands.md lists the order.

use crate::commands::age_since;
use crate::ops::inspect::EnvSummary;
use crate::output::table;

/// Everything a cell may need besides the env itself.
pub struct LsContext {
    pub now: jiff::Timestamp,
}

/// One column of `ls`.
pub struct Column {
    pub header: &'static str,
    /// 0: never dropped; otherwise dropped in ascending order when the table is too wide.
    pub drop_order: u8,
    /// Cells may be cut to this many characters (`…` included) before any column is dropped.
    pub narrow_to: Option<usize>,
    pub cell: fn(&EnvSummary, &LsContext) -> String,
}

/// The columns, left to right. Adding one is one entry here.
pub const COLUMNS: &[Column] = &[
    Column {
        header: "ENV",
        drop_order: 0,
        narrow_to: None,
        cell: |e, _| e.env.clone(),
    },
    Column {
        header: "BRANCH",
        drop_order: 7,
        narrow_to: Some(16),
        cell: |e, _| e.branch.clone(),
    },
    Column {
        header: "OWNER",
        drop_order: 5,
        narrow_to: Some(10),
        cell: |e, _| e.owner.clone(),
    },
    Column {
        header: "SERVICES",
        drop_order: 3,
        narrow_to: None,
        cell: |e, _| e.services.to_string(),
    },
    Column {
        header: "DESIRED/RUNNING",
        drop_order: 0,
        narrow_to: None,
        cell: |e, _| format!("{}/{}", e.desired, e.running),
    },
    Column {
        header: "COST/MO",
        drop_order: 8,
        narrow_to: None,
        cell: |e, _| {
            e.cost_month_usd
                .map(crate::cost::usd)
                .unwrap_or_else(|| "-".into())
        },
    },
    Column {
        header: "AGE",
        drop_order: 4,
        narrow_to: None,
        cell: |e, c| age_since(&e.created_at, c.now),
    },
    Column {
        header: "EXPIRES",
        drop_order: 10,
        narrow_to: None,
        cell: |e, c| expiry_cell(e.expires_at.as_deref(), e.protected, c.now),
    },
    Column {
        header: "NEXT STOP",
        drop_order: 6,
        narrow_to: None,
        cell: |e, c| in_time(e.next_stop.as_deref(), c.now),
    },
    Column {
        header: "NEXT START",
        drop_order: 2,
        narrow_to: None,
        cell: |e, c| in_time(e.next_start.as_deref(), c.now),
    },
    Column {
        header: "LAST DEPLOY",
        drop_order: 1,
        narrow_to: None,
        cell: |e, c| {
            e.last_deploy
                .as_deref()
                .map(|d| format!("{} ago", age_since(d, c.now)))
                .unwrap_or_else(|| "-".into())
        },
    },
    Column {
        header: "URL",
        drop_order: 9,
        narrow_to: Some(28),
        cell: |e, _| {
            if e.urls.is_empty() {
                "-".to_string()
            } else {
                e.urls.join(" ")
            }
        },
    },
];

/// Space between columns (the table's padding).
const GAP: usize = 2;

/// The `ls` table for `width` columns (`None`: unlimited), or every column with `wide`.
pub fn ls_table(envs: &[EnvSummary], ctx: &LsContext, width: Option<usize>, wide: bool) -> String {
    let cells: Vec<Vec<String>> = envs
        .iter()
        .map(|e| COLUMNS.iter().map(|c| (c.cell)(e, ctx)).collect())
        .collect();
    let natural: Vec<usize> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.header.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let (shown, widths) = match (width, wide) {
        (Some(width), false) => fit(&natural, width),
        _ => ((0..COLUMNS.len()).collect(), natural),
    };
    let headers: Vec<&str> = shown.iter().map(|&i| COLUMNS[i].header).collect();
    let rows = cells
        .iter()
        .map(|r| shown.iter().map(|&i| cut(&r[i], widths[i])).collect())
        .collect();
    table(&headers, rows)
}

/// Which columns to show and how wide each may be: narrow what may be cut (right to left), then drop columns
/// in `drop_order` until the table fits in `width`. If even the columns that are never dropped
/// do not fit, they are shown anyway (the terminal wraps them).
fn fit(natural: &[usize], width: usize) -> (Vec<usize>, Vec<usize>) {
    let mut drops: Vec<usize> = (0..COLUMNS.len())
        .filter(|&i| COLUMNS[i].drop_order > 0)
        .collect();
    drops.sort_by_key(|&i| COLUMNS[i].drop_order);
    let mut dropped = 0;
    loop {
        let shown: Vec<usize> = (0..COLUMNS.len())
            .filter(|i| !drops[..dropped].contains(i))
            .collect();
        let mut widths = natural.to_vec();
        let total = |w: &[usize]| -> usize {
            shown.iter().map(|&i| w[i]).sum::<usize>() + GAP * shown.len().saturating_sub(1)
        };
        // Rightmost first: the URL is cut before the branch.
        for &i in shown.iter().rev() {
            let over = total(&widths).saturating_sub(width);
            if over == 0 {
                break;
            }
            if let Some(min) = COLUMNS[i].narrow_to {
                let min = min.max(COLUMNS[i].header.len());
                widths[i] = widths[i].saturating_sub(over).max(min).min(widths[i]);
            }
        }
        if total(&widths) <= width || dropped == drops.len() {
            return (shown, widths);
        }
        dropped += 1;
    }
}

/// `text` cut to `width` characters, the last one `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `in 2d`, `expired`, `never`, or `protected` (gc never collects a protected env, whatever its
/// expiry; `status` and JSON give the exact time).
fn expiry_cell(expires_at: Option<&str>, protected: bool, now: jiff::Timestamp) -> String {
    if protected {
        return "protected".into();
    }
    match expires_at {
        None => "never".into(),
        Some(at) => match at.parse::<jiff::Timestamp>() {
            Ok(t) if t <= now => "expired".into(),
            Ok(_) => in_time(Some(at), now),
            Err(_) => at.to_string(),
        },
    }
}

/// `in 3h`, `in 2d` until an RFC 3339 time; `-` for none. The table is about what comes next;
/// JSON and `status` carry the times themselves.
fn in_time(at: Option<&str>, now: jiff::Timestamp) -> String {
    let Some(at) = at else {
        return "-".into();
    };
    let Ok(t) = at.parse::<jiff::Timestamp>() else {
        return at.to_string();
    };
    let secs = t.duration_since(now).as_secs().max(0);
    let span = match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    };
    format!("in {span}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str, branch: &str, urls: &[&str]) -> EnvSummary {
        EnvSummary {
            env: name.into(),
            branch: branch.into(),
            owner: "alice@example.com".into(),
            services: 3,
            desired: 3,
            running: 2,
            created_at: "2026-12-01T09:00:00Z".into(),
            last_deploy: Some("2026-12-02T15:30:00Z".into()),
            expires_at: Some("2026-12-05T09:00:00Z".into()),
            protected: false,
            next_stop: Some("2026-12-02T20:00:00+01:00".into()),
            next_start: Some("2026-12-03T08:00:00+01:00".into()),
            urls: urls.iter().map(|u| u.to_string()).collect(),
            cost_month_usd: Some(1.2345),
        }
    }

    fn fixture() -> (Vec<EnvSummary>, LsContext) {
        let envs = vec![
            env(
                "feature-abc-123-login",
                "feature/ABC-123_Login",
                &["https://feature-abc-123-login.preview.example.com/"],
            ),
            EnvSummary {
                protected: true,
                owner: "bob".into(),
                next_stop: None,
                next_start: None,
                expires_at: None,
                last_deploy: None,
                cost_month_usd: None,
                ..env("main", "main", &[])
            },
            env(
                "pr-42",
                "dependabot/cargo/serde-1.0.200",
                &["https://pr-42.preview.example.com/"],
            ),
        ];
        let ctx = LsContext {
            now: "2026-12-02T17:00:00Z".parse().unwrap(),
        };
        (envs, ctx)
    }

    fn widest_line(text: &str) -> usize {
        text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    #[test]
    fn ls_at_80_columns_narrows_then_drops_columns() {
        let (envs, ctx) = fixture();
        let text = ls_table(&envs, &ctx, Some(80), false);
        assert!(widest_line(&text) <= 80, "{text}");
        insta::assert_snapshot!("ls_80_columns", text);
    }

    #[test]
    fn ls_at_200_columns_shows_every_column() {
        let (envs, ctx) = fixture();
        let text = ls_table(&envs, &ctx, Some(200), false);
        assert!(widest_line(&text) <= 200, "{text}");
        for c in COLUMNS {
            assert!(text.contains(c.header), "{} missing:\n{text}", c.header);
        }
        insta::assert_snapshot!("ls_200_columns", text);
    }

    #[test]
    fn wide_shows_every_column_uncut_whatever_the_width() {
        let (envs, ctx) = fixture();
        let text = ls_table(&envs, &ctx, Some(40), true);
        assert_eq!(text, ls_table(&envs, &ctx, None, false));
        assert!(text.contains("dependabot/cargo/serde-1.0.200"), "{text}");
        assert!(text.contains("LAST DEPLOY"), "{text}");
    }

    #[test]
    fn columns_are_dropped_in_drop_order() {
        let (envs, ctx) = fixture();
        let mut previous = COLUMNS.len() + 1;
        for width in (20..=200).rev().step_by(5) {
            let text = ls_table(&envs, &ctx, Some(width), false);
            let header = text.lines().next().unwrap();
            let shown: Vec<&Column> = COLUMNS
                .iter()
                .filter(|c| header.split("  ").any(|h| h.trim() == c.header))
                .collect();
            assert!(shown.len() <= previous, "width {width}: {header}");
            previous = shown.len();
            // Whatever is dropped at this width, nothing dropped later is missing.
            let max_dropped = COLUMNS
                .iter()
                .filter(|c| !shown.iter().any(|s| s.header == c.header))
                .map(|c| c.drop_order)
                .max()
                .unwrap_or(0);
            for c in COLUMNS.iter().filter(|c| c.drop_order > max_dropped) {
                assert!(
                    shown.iter().any(|s| s.header == c.header),
                    "width {width}: {} dropped before a column with a lower drop_order\n{header}",
                    c.header
                );
            }
            assert!(header.starts_with("ENV"), "{header}");
            assert!(header.contains("DESIRED/RUNNING"), "{header}");
        }
    }

    #[test]
    fn drop_orders_are_unique() {
        let mut orders: Vec<u8> = COLUMNS
            .iter()
            .map(|c| c.drop_order)
            .filter(|o| *o > 0)
            .collect();
        let n = orders.len();
        orders.sort();
        orders.dedup();
        assert_eq!(orders.len(), n, "two columns share a drop_order");
    }
}
