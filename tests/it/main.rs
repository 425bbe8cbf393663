//! The integration tests, in one crate: one module per area, and the test world they share
//! (`common`).

mod assume;
mod common;
mod completions;
mod console;
mod docs;
mod doctor;
mod eks;
mod errors;
mod first_hour;
mod hardening;
mod keys;
mod mfa;
mod nu;
mod populate;
mod sdks;
mod server;
mod shells;
mod sso;
mod sso_start;
mod tls;
mod web_identity;
