//! What envs cost, estimated without AWS: Fargate vCPU- and GB-hours from the schedules and the
//! rendered task sizes, at the prices of a dated table, plus the shared overhead. Pure (no I/O,
//! no clock, no AWS types), like `janitor`: `ops::cost` observes, this module does the sums.

pub mod estimate;
pub mod hours;
pub mod prices;

pub use estimate::{
    estimate, on_demand_tasks, usd, EnvInput, Estimate, EstimateInput, JanitorInput, Scope,
    ServiceInput, MONTH_HOURS,
};
pub use hours::{running_hours, RunningHours, StopStart};
pub use prices::PriceTable;
