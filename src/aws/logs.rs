//! logs calls (being written).
