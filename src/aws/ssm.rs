//! ssm calls (being written).
