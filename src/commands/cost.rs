//! `envctl cost [ENV]`: the estimate (or, with `--actual`, Cost Explorer's figures) as a table,
//! the arithmetic with `--explain`, or JSON.

use crate::cli::CostArgs;
use crate::cost::{usd, Estimate, Scope};
use crate::error::{exit, Result};
use crate::ops::cost::{self, ActualCosts, ActualOptions, CostOptions};
use crate::ops::Session;
use crate::output::Printer;

pub async fn run(session: &Session, args: CostArgs) -> Result<i32> {
    let env = match args.env.as_deref() {
        Some(e) => Some(crate::naming::env_name(e)?),
        None => None,
    };
    let p = &session.printer;
    let now = jiff::Timestamp::now();
    if args.actual {
        let actual = cost::actual(
            session,
            &ActualOptions {
                env,
                days: args.days,
                now,
            },
        )
        .await?;
        if p.is_json() {
            p.json(&actual);
        } else {
            p.text(actual_text(p, &actual));
            if actual.envs.is_empty() {
                p.warn(cost::UNTAGGED_HINT);
            }
        }
        return Ok(exit::OK);
    }
    let mut est = cost::estimate(
        session,
        &CostOptions {
            env,
            prices: args.prices,
            now,
        },
    )
    .await?;
    if !args.explain {
        est.explain.clear();
    }
    if p.is_json() {
        p.json(&est);
        return Ok(exit::OK);
    }
    if args.explain {
        p.text(est.explain.join("\n"));
        p.text("");
    }
    p.text(text(p, &est));
    p.status(footer(&est));
    Ok(exit::OK)
}

/// One row per env, then the shared overhead and the total (fleet), as money.
pub fn text(p: &Printer, est: &Estimate) -> String {
    let mut rows: Vec<Vec<String>> = est
        .envs
        .iter()
        .map(|e| {
            vec![
                e.env.clone(),
                e.state.to_string(),
                format!("{:.1}", e.running_hours),
                usd(e.fargate_month),
                usd(e.logs_month),
                usd(e.day),
                usd(e.month),
                usd(e.always_on_on_demand_month),
                format!("{:.1}%", e.percent_of_always_on),
            ]
        })
        .collect();
    if est.scope == Scope::Fleet {
        for s in &est.shared {
            rows.push(vec![
                format!("({})", s.item),
                "shared".into(),
                String::new(),
                String::new(),
                String::new(),
                usd(s.day),
                usd(s.month),
                String::new(),
                String::new(),
            ]);
        }
        let t = &est.total;
        rows.push(vec![
            "TOTAL".into(),
            format!("{} env(s)", est.envs.len()),
            String::new(),
            usd(t.fargate_month),
            usd(t.logs_month),
            usd(t.day),
            usd(t.month),
            usd(t.always_on_on_demand_month),
            format!("{:.1}%", t.percent_of_always_on),
        ]);
    }
    p.table(
        &[
            "ENV",
            "STATE",
            "HOURS/MO",
            "FARGATE/MO",
            "LOGS/MO",
            "TOTAL/DAY",
            "TOTAL/MO",
            "ALWAYS-ON ON-DEMAND/MO",
            "FARGATE VS ALWAYS-ON",
        ],
        rows,
    )
}

/// What the figures rest on, for stderr.
pub fn footer(est: &Estimate) -> String {
    let origin = if est.prices.origin == "embedded" {
        "embedded price table".to_string()
    } else {
        est.prices.origin.clone()
    };
    let mut out = format!(
        "Estimate for the {} h from {}: {} prices as of {} ({origin}); Spot at a typical {:.0}% off on-demand. `--explain` shows the arithmetic.",
        est.window_hours,
        est.from,
        est.region,
        est.prices.as_of,
        est.prices.spot_discount * 100.0
    );
    if est.scope == Scope::Env {
        out.push_str("\nShared overhead (preview ALB, janitor) is counted once for the fleet: `envctl cost`.");
    }
    out
}

pub fn actual_text(p: &Printer, a: &ActualCosts) -> String {
    let mut rows: Vec<Vec<String>> = a
        .envs
        .iter()
        .map(|e| vec![e.env.clone(), format!("{:.2} {}", e.amount, a.unit)])
        .collect();
    if a.untagged > 0.0 {
        rows.push(vec![
            "(no envctl:env tag)".into(),
            format!("{:.2} {}", a.untagged, a.unit),
        ]);
    }
    rows.push(vec!["TOTAL".into(), format!("{:.2} {}", a.total, a.unit)]);
    let mut header = format!("{} {} to {} (end excluded)", a.metric, a.start, a.end);
    if a.estimated {
        // Cost Explorer's own word for figures of a period not yet closed.
        header.push_str("; AWS marks part of it as estimated");
    }
    format!("{header}\n{}", p.table(&["ENV", "COST"], rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{estimate, EnvInput, EstimateInput, JanitorInput, ServiceInput, StopStart};
    use crate::output::Format;

    /// A fixed table, so these snapshots change only when the arithmetic or the view does.
    const PRICES: &str = r#"
as_of = "2026-01-15"
source = "test prices"
currency = "USD"
spot_discount = 0.7
[assumptions]
alb_lcus = 1.0
janitor_minutes_per_run = 2.0
log_gb_per_task_hour = 0.001
[regions.eu-central-1]
fargate_vcpu_hour = 0.04656
fargate_gb_hour = 0.00511
alb_hour = 0.027
alb_lcu_hour = 0.008
codebuild_arm_minute = 0.004
codebuild_x86_minute = 0.006
logs_ingest_gb = 0.63
"#;

    fn fixed(scope: Scope) -> Estimate {
        let prices = crate::cost::prices::parse(PRICES, "test.toml").expect("prices");
        let berlin = StopStart::new(
            "cron(0 20 ? * MON-FRI *)",
            "cron(0 8 ? * MON-FRI *)",
            "Europe/Berlin",
        )
        .expect("schedule");
        let web = |tasks, on_demand_tasks| ServiceInput {
            key: "web".into(),
            cpu_units: 256,
            memory_mib: 512,
            tasks,
            on_demand_tasks,
        };
        let mut envs = vec![EnvInput {
            env: "feature-x".into(),
            exists: true,
            running_now: true,
            schedules: Some(berlin),
            services: vec![
                web(1, 0.0),
                ServiceInput {
                    key: "api".into(),
                    cpu_units: 1024,
                    memory_mib: 2048,
                    tasks: 2,
                    on_demand_tasks: 1.0,
                },
            ],
        }];
        if scope == Scope::Fleet {
            envs.push(EnvInput {
                env: "staging".into(),
                exists: true,
                running_now: false,
                schedules: None,
                services: vec![web(3, 0.0)],
            });
        }
        estimate(&EstimateInput {
            app: "shop".into(),
            region: "eu-central-1".into(),
            scope,
            // Wednesday 10:00 in Berlin.
            now: "2026-01-21T09:00:00Z".parse().unwrap(),
            prices: &prices,
            prices_origin: "test.toml".into(),
            envs,
            alb: true,
            janitor: Some(JanitorInput {
                expression: "rate(1 hour)".into(),
                arm: true,
            }),
        })
        .expect("estimate")
    }

    fn printer() -> Printer {
        Printer::new(Format::Text, false, false)
    }

    #[test]
    fn env_text() {
        let est = fixed(Scope::Env);
        insta::assert_snapshot!(
            "cost_env_text",
            format!("{}\n---\n{}", text(&printer(), &est), footer(&est))
        );
    }

    #[test]
    fn fleet_text_and_explain() {
        let est = fixed(Scope::Fleet);
        insta::assert_snapshot!("cost_fleet_text", text(&printer(), &est));
        insta::assert_snapshot!("cost_fleet_explain", est.explain.join("\n"));
    }

    #[test]
    fn fleet_json_has_numbers_and_rfc3339_times() {
        let mut est = fixed(Scope::Fleet);
        est.explain.clear();
        let v = serde_json::to_value(&est).expect("json");
        assert!(v["total"]["month"].is_f64());
        assert_eq!(v["from"], "2026-01-21T09:00:00Z");
        assert_eq!(v["envs"][0]["next_stop"], "2026-01-21T19:00:00Z");
        insta::assert_json_snapshot!("cost_fleet_json", v);
    }
}
