//! Integration tests of the PRONOM matcher.

mod bundled;
mod fido;
mod hostile;
