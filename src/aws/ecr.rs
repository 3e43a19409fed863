//! ecr calls (being written).
