//! Everything that talks to AWS: the STS calls (`sts`), what their failures mean (`explain`),
//! where base credentials come from (`source`), what all network calls share (`net`:
//! endpoints, TLS, timeouts, the runtime) and the server's clock (`clock`).

pub mod clock;
pub mod explain;
pub mod net;
pub mod source;
pub mod sts;
