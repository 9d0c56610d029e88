//! exhibit-intake
