//! The dated price table `cost` multiplies by: embedded (`prices.toml`, with its date and
//! sources) or a user's file of the same format (`--prices FILE`), checked before any use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The table shipped in the binary.
pub const EMBEDDED: &str = include_str!("prices.toml");

/// Where the format is documented, for error hints.
const FORMAT_DOC: &str = "docs/cost.md#price-table";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    /// The day the prices were read, `YYYY-MM-DD`.
    pub as_of: String,
    /// Where they were read.
    pub source: String,
    pub currency: String,
    /// Typical Fargate Spot discount off on-demand, 0..1 (Spot prices float).
    pub spot_discount: f64,
    pub assumptions: Assumptions,
    pub regions: BTreeMap<String, RegionPrices>,
}

/// Quantities no price page gives; stated so the arithmetic can be checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assumptions {
    pub alb_lcus: f64,
    pub janitor_minutes_per_run: f64,
    pub log_gb_per_task_hour: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionPrices {
    pub fargate_vcpu_hour: f64,
    pub fargate_gb_hour: f64,
    /// Overrides the table's `spot_discount` for this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_discount: Option<f64>,
    pub alb_hour: f64,
    pub alb_lcu_hour: f64,
    pub codebuild_arm_minute: f64,
    pub codebuild_x86_minute: f64,
    pub logs_ingest_gb: f64,
}

impl RegionPrices {
    /// The Spot discount that applies here.
    pub fn spot_discount(&self, table: &PriceTable) -> f64 {
        self.spot_discount.unwrap_or(table.spot_discount)
    }
}

/// Parses and checks a price table; `origin` names it in messages (a path, or "the embedded
/// price table").
pub fn parse(text: &str, origin: &str) -> Result<PriceTable, String> {
    let table: PriceTable = toml::from_str(text).map_err(|e| {
        format!(
            "{origin}: {} (format: {FORMAT_DOC})",
            e.message().trim_end()
        )
    })?;
    let bad = |key: String, why: &str| format!("{origin}: `{key}` {why} (format: {FORMAT_DOC})");
    if table.as_of.parse::<jiff::civil::Date>().is_err() {
        return Err(bad("as_of".into(), "must be a date like 2026-12-02"));
    }
    let fraction = |key: String, v: f64| {
        if v.is_finite() && (0.0..1.0).contains(&v) {
            Ok(())
        } else {
            Err(bad(
                key,
                "must be a fraction from 0 up to (not including) 1",
            ))
        }
    };
    fraction("spot_discount".into(), table.spot_discount)?;
    let a = &table.assumptions;
    for (key, v) in [
        ("alb_lcus", a.alb_lcus),
        ("janitor_minutes_per_run", a.janitor_minutes_per_run),
        ("log_gb_per_task_hour", a.log_gb_per_task_hour),
    ] {
        non_negative(&bad, format!("assumptions.{key}"), v)?;
    }
    if table.regions.is_empty() {
        return Err(bad(
            "regions".into(),
            "must have at least one [regions.<name>] table",
        ));
    }
    for (name, r) in &table.regions {
        for (key, v) in [
            ("fargate_vcpu_hour", r.fargate_vcpu_hour),
            ("fargate_gb_hour", r.fargate_gb_hour),
            ("alb_hour", r.alb_hour),
            ("alb_lcu_hour", r.alb_lcu_hour),
            ("codebuild_arm_minute", r.codebuild_arm_minute),
            ("codebuild_x86_minute", r.codebuild_x86_minute),
            ("logs_ingest_gb", r.logs_ingest_gb),
        ] {
            non_negative(&bad, format!("regions.{name}.{key}"), v)?;
        }
        if let Some(d) = r.spot_discount {
            fraction(format!("regions.{name}.spot_discount"), d)?;
        }
    }
    Ok(table)
}

fn non_negative(bad: &impl Fn(String, &str) -> String, key: String, v: f64) -> Result<(), String> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(bad(key, "must be a number of at least 0"))
    }
}

/// The embedded table (checked by a unit test, so this cannot fail in a release).
pub fn embedded() -> Result<PriceTable, String> {
    parse(EMBEDDED, "the embedded price table")
}

impl PriceTable {
    /// The prices of `region`, or an error naming `--prices` as the way to add it.
    pub fn region(&self, region: &str, origin: &str) -> Result<&RegionPrices, String> {
        self.regions.get(region).ok_or_else(|| {
            format!(
                "{origin} has no prices for region `{region}` (it has {}); pass `--prices FILE` \
                 with a [regions.{region}] table (format: {FORMAT_DOC})",
                self.regions.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_parses_and_covers_the_documented_regions() {
        let t = embedded().expect("embedded table");
        for r in [
            "us-east-1",
            "us-east-2",
            "us-west-2",
            "eu-west-1",
            "eu-central-1",
            "ap-southeast-2",
        ] {
            let p = t.region(r, "embedded").expect(r);
            assert!(
                p.fargate_vcpu_hour > 0.01 && p.fargate_gb_hour > 0.001,
                "{r}"
            );
        }
        assert_eq!(t.currency, "USD");
    }

    #[test]
    fn an_unknown_region_names_the_prices_flag() {
        let t = embedded().expect("embedded table");
        let e = t
            .region("mars-north-1", "the embedded price table")
            .unwrap_err();
        assert!(e.contains("`mars-north-1`"), "{e}");
        assert!(e.contains("--prices FILE"), "{e}");
        assert!(e.contains("[regions.mars-north-1]"), "{e}");
    }

    #[test]
    fn bad_files_are_named_with_the_key_at_fault() {
        let good = EMBEDDED;
        let cases = [
            (
                good.replace("as_of = \"2026-12-02\"", "as_of = \"soon\""),
                "`as_of`",
            ),
            (
                good.replace("spot_discount = 0.70", "spot_discount = 1.5"),
                "`spot_discount`",
            ),
            (
                good.replacen("fargate_vcpu_hour = 0.04048", "fargate_vcpu_hour = -1", 1),
                "`regions.us-east-1.fargate_vcpu_hour`",
            ),
            (
                good.replacen("alb_hour = 0.0225", "alb_hours = 0.0225", 1),
                "unknown field `alb_hours`",
            ),
        ];
        for (text, wanted) in cases {
            let e = parse(&text, "prices.toml").unwrap_err();
            assert!(e.starts_with("prices.toml: "), "{e}");
            assert!(e.contains(wanted), "{wanted}: {e}");
        }
    }
}
