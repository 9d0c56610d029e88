//! exhibit-queue
