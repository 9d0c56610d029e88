//! exhibit-custody
