//! Intake stages run directly against a real local store and ledger.

mod av_identify;
mod changed_during_read;
mod device;
mod extension_mismatch;
mod faults;
mod inline_identify;
mod no_local_path;
mod sets;
mod walk_faults;
