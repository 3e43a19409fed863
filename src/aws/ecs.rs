//! ecs calls (being written).
