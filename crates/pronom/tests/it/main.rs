//! Integration tests of the PRONOM matcher.

mod bundled;
