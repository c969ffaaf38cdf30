//! Builds the plan. placeholder
pub fn build_plan() {}
