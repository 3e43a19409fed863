//! The estimate itself: running hours × task size × price, per service, env and fleet, with the
//! shared overhead, the always-on on-demand comparison and the arithmetic written out. Plain
//! numbers in, plain numbers out; the caller supplies "now".

use jiff::Timestamp;
use serde::Serialize;

use super::hours::{running_hours, StopStart};
use super::prices::{PriceTable, RegionPrices};
use crate::model::CapacityProviderStrategyItem;
use crate::schedule;

/// AWS's month for monthly prices: 365 × 24 / 12 hours.
pub const MONTH_HOURS: f64 = 730.0;

/// One service of an env as it runs: size from its rendered task definition, count and
/// capacity split from its service.
#[derive(Debug, Clone)]
pub struct ServiceInput {
    pub key: String,
    pub cpu_units: u32,
    pub memory_mib: u32,
    pub tasks: u32,
    /// Of `tasks`, how many run on on-demand FARGATE (the rest on FARGATE_SPOT).
    pub on_demand_tasks: f64,
}

#[derive(Debug, Clone)]
pub struct EnvInput {
    pub env: String,
    /// `false`: nothing exists yet, the figures are what `up` would create.
    pub exists: bool,
    /// Whether its services run now (`false`: stopped by a schedule or `envctl stop`).
    pub running_now: bool,
    /// `None`: no stop/start schedules (always on, or schedules off).
    pub schedules: Option<StopStart>,
    pub services: Vec<ServiceInput>,
}

/// The janitor as installed: its EventBridge expression and its build's CPU.
#[derive(Debug, Clone)]
pub struct JanitorInput {
    pub expression: String,
    pub arm: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One env: its own costs; shared overhead is left to the fleet view.
    Env,
    /// Every env of the app plus the shared overhead.
    Fleet,
}

pub struct EstimateInput<'a> {
    pub app: String,
    pub region: String,
    pub scope: Scope,
    pub now: Timestamp,
    pub prices: &'a PriceTable,
    /// Where the prices came from: "embedded" or the `--prices` path.
    pub prices_origin: String,
    pub envs: Vec<EnvInput>,
    /// The shared preview ALB is envctl's (bootstrap made it): its hours are counted.
    pub alb: bool,
    pub janitor: Option<JanitorInput>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub app: String,
    pub region: String,
    pub scope: Scope,
    /// Start of the month the figures cover (RFC 3339).
    pub from: String,
    pub window_hours: f64,
    pub prices: PriceInfo,
    pub envs: Vec<EnvCost>,
    /// Fleet scope only: the preview ALB and the janitor.
    pub shared: Vec<SharedCost>,
    pub total: Totals,
    /// The arithmetic, line by line (`--explain`; the command empties it otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explain: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PriceInfo {
    pub origin: String,
    pub as_of: String,
    pub source: String,
    pub currency: String,
    pub spot_discount: f64,
    pub fargate_vcpu_hour: f64,
    pub fargate_gb_hour: f64,
    pub spot_vcpu_hour: f64,
    pub spot_gb_hour: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvCost {
    pub env: String,
    /// `running`, `stopped` or `not created`.
    pub state: &'static str,
    pub schedule: Option<ScheduleInfo>,
    pub running_hours: f64,
    pub next_start: Option<String>,
    pub next_stop: Option<String>,
    pub services: Vec<ServiceCost>,
    pub fargate_month: f64,
    pub logs_month: f64,
    pub month: f64,
    pub day: f64,
    /// The same tasks on on-demand FARGATE for all 730 hours.
    pub always_on_on_demand_month: f64,
    /// `fargate_month` as a percentage of `always_on_on_demand_month`.
    pub percent_of_always_on: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScheduleInfo {
    pub stop: String,
    pub start: String,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceCost {
    pub service: String,
    pub vcpu: f64,
    pub memory_gb: f64,
    pub tasks: u32,
    pub spot_tasks: f64,
    pub on_demand_tasks: f64,
    pub vcpu_hours: f64,
    pub gb_hours: f64,
    pub month: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SharedCost {
    pub item: &'static str,
    pub month: f64,
    pub day: f64,
    /// What the figure assumes, in words.
    pub basis: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub fargate_month: f64,
    pub logs_month: f64,
    pub shared_month: f64,
    pub month: f64,
    pub day: f64,
    pub always_on_on_demand_month: f64,
    pub percent_of_always_on: f64,
}

/// How many of `tasks` run on on-demand FARGATE: the strategy's `base` first, the rest by
/// weight, as ECS places them. No strategy: the launch type decides (FARGATE is on-demand).
pub fn on_demand_tasks(
    tasks: u32,
    strategy: &[CapacityProviderStrategyItem],
    launch_type: Option<&str>,
) -> f64 {
    if strategy.is_empty() {
        return match launch_type {
            Some("FARGATE_SPOT") => 0.0,
            _ => f64::from(tasks),
        };
    }
    let is_on_demand = |i: &CapacityProviderStrategyItem| i.capacity_provider != "FARGATE_SPOT";
    let mut left = f64::from(tasks);
    let mut on_demand = 0.0;
    for item in strategy {
        let base = f64::from(item.base.max(0)).min(left);
        left -= base;
        if is_on_demand(item) {
            on_demand += base;
        }
    }
    let weights: f64 = strategy.iter().map(|i| f64::from(i.weight.max(0))).sum();
    if left > 0.0 && weights > 0.0 {
        let od_weight: f64 = strategy
            .iter()
            .filter(|i| is_on_demand(i))
            .map(|i| f64::from(i.weight.max(0)))
            .sum();
        on_demand += left * od_weight / weights;
    }
    on_demand
}

/// Runs per month of an EventBridge rule expression (`rate(1 hour)`, `cron(0 * * * ? *)`, UTC).
pub fn runs_per_window(expression: &str, from: Timestamp, hours: f64) -> Result<f64, String> {
    let e = expression.trim();
    if let Some(inner) = e.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let (n, unit) = inner
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("`{e}` is not rate(N unit)"))?;
        let n: f64 = n
            .parse()
            .ok()
            .filter(|n: &f64| *n > 0.0)
            .ok_or_else(|| format!("`{e}`: `{n}` is not a positive number"))?;
        let minutes = match unit.trim().trim_end_matches('s') {
            "minute" => n,
            "hour" => n * 60.0,
            "day" => n * 1440.0,
            other => return Err(format!("`{e}`: unknown unit `{other}`")),
        };
        return Ok((hours * 60.0 / minutes).floor());
    }
    let cron = schedule::parse_cron(e)?;
    let to = from
        .checked_add(jiff::SignedDuration::from_secs_f64(hours * 3600.0))
        .map_err(|err| err.to_string())?;
    let utc = jiff::tz::TimeZone::UTC;
    let mut runs = 0u32;
    let mut at = from;
    // At most one run a minute: a month has 43,800 minutes.
    while let Some(next) = cron.next_after(at, &utc).filter(|t| *t < to) {
        runs += 1;
        at = next;
        if runs > 50_000 {
            break;
        }
    }
    Ok(f64::from(runs))
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

fn money(v: f64) -> f64 {
    round(v, 4)
}

/// `$1.23`; amounts under a cent keep four decimals so they do not read as zero.
pub fn usd(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.01 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

fn rfc3339(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

/// The estimate for `input`; fails only when the region has no prices.
pub fn estimate(input: &EstimateInput) -> Result<Estimate, String> {
    let table = input.prices;
    let origin = match input.prices_origin.as_str() {
        "embedded" => "the embedded price table".to_string(),
        path => path.to_string(),
    };
    let p: &RegionPrices = table.region(&input.region, &origin)?;
    let discount = p.spot_discount(table);
    let spot_vcpu = p.fargate_vcpu_hour * (1.0 - discount);
    let spot_gb = p.fargate_gb_hour * (1.0 - discount);
    let from = input.now;
    let to = from
        .checked_add(jiff::SignedDuration::from_hours(MONTH_HOURS as i64))
        .map_err(|e| e.to_string())?;
    let a = &table.assumptions;
    let mut explain = vec![
        format!(
            "window: {} + {MONTH_HOURS} h (AWS's month); a day is 1/{:.4} of it",
            rfc3339(from),
            MONTH_HOURS / 24.0
        ),
        format!(
            "prices: {} in {}, as of {} ({}); Spot = on-demand × (1 - {discount}), a typical discount: Spot prices float",
            input.region, origin, table.as_of, table.source
        ),
        format!(
            "Fargate on-demand ${}/vCPU-h, ${}/GB-h; Spot ${:.6}/vCPU-h, ${:.6}/GB-h",
            p.fargate_vcpu_hour, p.fargate_gb_hour, spot_vcpu, spot_gb
        ),
    ];
    let day_share = 24.0 / MONTH_HOURS;
    let mut envs = Vec::new();
    for e in &input.envs {
        let hours = running_hours(e.schedules.as_ref(), e.running_now, from, to);
        let state = match (e.exists, e.running_now) {
            (false, _) => "not created",
            (true, true) => "running",
            (true, false) => "stopped",
        };
        explain.push(String::new());
        explain.push(match &e.schedules {
            Some(s) => format!(
                "{}: {state} now; stops {} and starts {} in {} → runs {:.2} h of {MONTH_HOURS}",
                e.env, s.stop, s.start, s.timezone, hours.hours
            ),
            None => format!(
                "{}: {state} now; no stop/start schedules → runs {:.2} h of {MONTH_HOURS}",
                e.env, hours.hours
            ),
        });
        let mut services = Vec::new();
        let (mut fargate, mut always_on, mut task_hours) = (0.0, 0.0, 0.0);
        for s in &e.services {
            let vcpu = f64::from(s.cpu_units) / 1024.0;
            let gb = f64::from(s.memory_mib) / 1024.0;
            let tasks = f64::from(s.tasks);
            let od = s.on_demand_tasks.clamp(0.0, tasks);
            let spot = tasks - od;
            let vcpu_hours = tasks * vcpu * hours.hours;
            let gb_hours = tasks * gb * hours.hours;
            let spot_cost = spot * hours.hours * (vcpu * spot_vcpu + gb * spot_gb);
            let od_cost = od * hours.hours * (vcpu * p.fargate_vcpu_hour + gb * p.fargate_gb_hour);
            let month = spot_cost + od_cost;
            let baseline =
                tasks * MONTH_HOURS * (vcpu * p.fargate_vcpu_hour + gb * p.fargate_gb_hour);
            explain.push(format!(
                "  {}: {} task(s) × {vcpu} vCPU × {:.2} h = {:.2} vCPU-h; × {gb} GB = {:.2} GB-h",
                s.key, s.tasks, hours.hours, vcpu_hours, gb_hours
            ));
            if spot > 0.0 {
                explain.push(format!(
                    "    Spot {spot} task(s): {spot} × {:.2} h × ({vcpu} × ${spot_vcpu:.6} + {gb} × ${spot_gb:.6}) = {}",
                    hours.hours,
                    usd(spot_cost)
                ));
            }
            if od > 0.0 {
                explain.push(format!(
                    "    on-demand {od} task(s): {od} × {:.2} h × ({vcpu} × ${} + {gb} × ${}) = {}",
                    hours.hours,
                    p.fargate_vcpu_hour,
                    p.fargate_gb_hour,
                    usd(od_cost)
                ));
            }
            explain.push(format!(
                "    always on, on-demand: {} × {MONTH_HOURS} h × ({vcpu} × ${} + {gb} × ${}) = {}",
                s.tasks,
                p.fargate_vcpu_hour,
                p.fargate_gb_hour,
                usd(baseline)
            ));
            fargate += month;
            always_on += baseline;
            task_hours += tasks * hours.hours;
            services.push(ServiceCost {
                service: s.key.clone(),
                vcpu,
                memory_gb: gb,
                tasks: s.tasks,
                spot_tasks: round(spot, 3),
                on_demand_tasks: round(od, 3),
                vcpu_hours: round(vcpu_hours, 2),
                gb_hours: round(gb_hours, 2),
                month: money(month),
            });
        }
        let logs = task_hours * a.log_gb_per_task_hour * p.logs_ingest_gb;
        explain.push(format!(
            "  logs: {task_hours:.2} task-h × {} GB (assumed) × ${}/GB ingested = {}",
            a.log_gb_per_task_hour,
            p.logs_ingest_gb,
            usd(logs)
        ));
        let month = fargate + logs;
        let percent = percent(fargate, always_on);
        explain.push(format!(
            "  {}: Fargate {} + logs {} = {} a month, {} a day; Fargate is {percent:.1}% of always on, on-demand ({})",
            e.env,
            usd(fargate),
            usd(logs),
            usd(month),
            usd(month * day_share),
            usd(always_on)
        ));
        envs.push(EnvCost {
            env: e.env.clone(),
            state,
            schedule: e.schedules.as_ref().map(|s| ScheduleInfo {
                stop: s.stop.to_string(),
                start: s.start.to_string(),
                timezone: s.timezone.clone(),
            }),
            running_hours: round(hours.hours, 2),
            next_start: hours.next_start.map(rfc3339),
            next_stop: hours.next_stop.map(rfc3339),
            services,
            fargate_month: money(fargate),
            logs_month: money(logs),
            // From the rounded parts, so an env's figures add up and the fleet's total is the
            // sum of the envs' months as printed.
            month: money(money(fargate) + money(logs)),
            day: money(month * day_share),
            always_on_on_demand_month: money(always_on),
            percent_of_always_on: round(percent, 1),
        });
    }

    let mut shared = Vec::new();
    if input.scope == Scope::Fleet {
        explain.push(String::new());
        if input.alb {
            let month = MONTH_HOURS * (p.alb_hour + a.alb_lcus * p.alb_lcu_hour);
            let basis = format!(
                "{MONTH_HOURS} h × (${} + {} LCU (assumed) × ${}/LCU-h)",
                p.alb_hour, a.alb_lcus, p.alb_lcu_hour
            );
            explain.push(format!("shared preview ALB: {basis} = {}", usd(month)));
            shared.push(SharedCost {
                item: "preview ALB",
                month: money(month),
                day: money(month * day_share),
                basis,
            });
        }
        if let Some(j) = &input.janitor {
            let runs = runs_per_window(&j.expression, from, MONTH_HOURS)?;
            let per_minute = if j.arm {
                p.codebuild_arm_minute
            } else {
                p.codebuild_x86_minute
            };
            let month = runs * a.janitor_minutes_per_run * per_minute;
            let basis = format!(
                "{runs} runs ({}) × {} min (assumed) × ${per_minute}/min ({})",
                j.expression,
                a.janitor_minutes_per_run,
                if j.arm { "arm64 small" } else { "x86_64 small" }
            );
            explain.push(format!("shared janitor: {basis} = {}", usd(month)));
            shared.push(SharedCost {
                item: "janitor",
                month: money(month),
                day: money(month * day_share),
                basis,
            });
        }
        if shared.is_empty() {
            explain.push("shared: no preview ALB of envctl's and no janitor".to_string());
        }
    }

    let fargate: f64 = envs.iter().map(|e| e.fargate_month).sum();
    let logs: f64 = envs.iter().map(|e| e.logs_month).sum();
    let shared_month: f64 = shared.iter().map(|s| s.month).sum();
    let always_on: f64 = envs.iter().map(|e| e.always_on_on_demand_month).sum();
    let month = envs.iter().map(|e| e.month).sum::<f64>() + shared_month;
    let total = Totals {
        fargate_month: money(fargate),
        logs_month: money(logs),
        shared_month: money(shared_month),
        month: money(month),
        day: money(month * day_share),
        always_on_on_demand_month: money(always_on),
        percent_of_always_on: round(percent(fargate, always_on), 1),
    };
    if input.scope == Scope::Fleet {
        explain.push(format!(
            "fleet: Fargate {} + logs {} + shared {} = {} a month, {} a day; Fargate is {:.1}% of always on, on-demand ({})",
            usd(fargate),
            usd(logs),
            usd(shared_month),
            usd(month),
            usd(total.day),
            total.percent_of_always_on,
            usd(always_on)
        ));
    }
    Ok(Estimate {
        app: input.app.clone(),
        region: input.region.clone(),
        scope: input.scope,
        from: rfc3339(from),
        window_hours: MONTH_HOURS,
        prices: PriceInfo {
            origin: input.prices_origin.clone(),
            as_of: table.as_of.clone(),
            source: table.source.clone(),
            currency: table.currency.clone(),
            spot_discount: discount,
            fargate_vcpu_hour: p.fargate_vcpu_hour,
            fargate_gb_hour: p.fargate_gb_hour,
            spot_vcpu_hour: round(spot_vcpu, 8),
            spot_gb_hour: round(spot_gb, 8),
        },
        envs,
        shared,
        total,
        explain,
    })
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        part / whole * 100.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(provider: &str, weight: i32, base: i32) -> CapacityProviderStrategyItem {
        CapacityProviderStrategyItem {
            capacity_provider: provider.into(),
            weight,
            base,
        }
    }

    #[test]
    fn tasks_are_split_by_base_then_weight() {
        let spot = [item("FARGATE_SPOT", 1, 0)];
        assert_eq!(on_demand_tasks(3, &spot, None), 0.0);
        let base = [item("FARGATE", 0, 1), item("FARGATE_SPOT", 1, 0)];
        assert_eq!(on_demand_tasks(3, &base, None), 1.0);
        assert_eq!(on_demand_tasks(0, &base, None), 0.0);
        let half = [item("FARGATE", 1, 0), item("FARGATE_SPOT", 1, 0)];
        assert_eq!(on_demand_tasks(4, &half, None), 2.0);
        assert_eq!(on_demand_tasks(2, &[], Some("FARGATE")), 2.0);
        assert_eq!(on_demand_tasks(2, &[], None), 2.0);
    }

    #[test]
    fn janitor_runs_from_rate_and_cron() {
        let from: Timestamp = "2026-12-07T00:00:00Z".parse().unwrap();
        assert_eq!(runs_per_window("rate(1 hour)", from, 730.0), Ok(730.0));
        assert_eq!(runs_per_window("rate(30 minutes)", from, 730.0), Ok(1460.0));
        assert_eq!(runs_per_window("rate(1 day)", from, 730.0), Ok(30.0));
        // Every hour at :15 for 24 hours.
        assert_eq!(runs_per_window("cron(15 * * * ? *)", from, 24.0), Ok(24.0));
        assert!(runs_per_window("rate(1 fortnight)", from, 730.0).is_err());
    }

    #[test]
    fn usd_keeps_small_amounts_visible() {
        assert_eq!(usd(1.234), "$1.23");
        assert_eq!(usd(0.0012), "$0.0012");
        assert_eq!(usd(0.0), "$0.00");
    }
}
