//! Authentication: password hashing, access tokens and calendar-feed tokens. The extractors that
//! turn an `Authorization` header into a caller are HTTP's ([`crate::http::caller`]); refresh
//! tokens are plain values ([`crate::domain::refresh_token`]) that the store keeps hashed.

pub mod feed;
pub mod jwks;
pub mod keys;
pub mod password;
pub mod tokens;

pub use crate::domain::refresh_token::RefreshToken;
pub use jwks::{Jwk, Jwks};
pub use tokens::{AccessClaims, Holder, Tokens};
