//! Authentication: password hashing, access and refresh tokens, and the extractors that turn an
//! `Authorization` header into a caller.

pub mod caller;
pub mod feed;
pub mod keys;
pub mod password;
pub mod refresh;
pub mod tokens;

pub use caller::{Caller, Claims};
pub use refresh::RefreshToken;
pub use tokens::{AccessClaims, Tokens};
