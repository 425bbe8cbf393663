//! Everything that talks to AWS: the STS calls (`sts`), what their failures mean (`explain`),
//! where base credentials come from (`source`), what all network calls share (`net`:
//! endpoints, TLS, timeouts, the runtime), the server's clock (`clock`) and console sign-in
//! (`signin`), the IAM calls of a key rotation (`iam`) and EKS's cluster descriptions (`eks`).

pub mod clock;
pub mod eks;
pub mod explain;
pub mod iam;
pub mod net;
pub mod signin;
pub mod source;
pub mod sts;
