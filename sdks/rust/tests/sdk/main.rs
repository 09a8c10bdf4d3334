//! The SDK against the real server: started in-process on port 0 with a
//! fresh SQLite database per test, as the server's own tests do.

mod fault_injection;
mod helpers;
mod proxy;
mod realtime;
mod rest;
mod sessions;
mod spec_oracle;
