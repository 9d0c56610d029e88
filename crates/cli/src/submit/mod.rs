//! `exhibit submit`: the client side of bulk submission (tus uploads with
//! resume, then the manifest).

pub mod client;
pub mod http;
pub mod resume;
