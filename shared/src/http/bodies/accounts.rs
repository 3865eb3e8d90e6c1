//! The bodies of sign-up, log-in, refresh and log-out, and profile edits.

use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::{Email, Password, Username};
use crate::http::fields::{Fields, boolean, checked, raw_string, text};
use crate::http::problem::ApiError;

/// What a password must not be made of: the account's own name and address.
fn account_words<'a>(username: Option<&'a str>, email: Option<&'a str>) -> Vec<&'a str> {
    username.into_iter().chain(email).collect()
}

/// Body of `POST /users`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"username": "alice", "email": "alice@example.com", "password": "correct-horse"})))]
pub struct SignUp {
    /// 3 to 30 of `A-Z a-z 0-9 _ . -`; unique, ignoring case.
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.-]{3,30}$", min_length = 3, max_length = 30)]
    pub username: Username,
    /// A valid address with a dotted domain; unique, ignoring case.
    #[schema(value_type = String, format = Email, max_length = 254)]
    pub email: Email,
    /// At least 8 characters (at most 1024), any characters, and not easily guessed: common
    /// passwords, repeats, sequences and the account's own username or email are refused with a
    /// field error. A few unrelated words make a good one.
    #[schema(value_type = String, min_length = 8, max_length = 1024, format = Password)]
    pub password: Password,
}

impl SignUp {
    pub const FIELDS: &[&str] = &["username", "email", "password"];

    pub fn read(body: Map<String, Value>) -> Result<SignUp, ApiError> {
        let mut fields = Fields::new(body, Self::FIELDS);
        let username = fields.required("username", text(Username::parse));
        let email = fields.required("email", text(Email::parse));
        let context =
            account_words(username.as_ref().map(Username::as_str), email.as_ref().map(Email::as_str));
        let password = fields.required("password", text(|raw| Password::parse_for(raw, &context)));
        fields.finish()?;
        Ok(SignUp { username: checked(username)?, email: checked(email)?, password: checked(password)? })
    }
}

/// Body of `POST /auth/token`. Neither field is checked against the sign-up rules: a name or
/// password no account can have is refused like a wrong one.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"username": "alice", "password": "correct-horse"})))]
pub struct LogIn {
    pub username: String,
    #[schema(format = Password)]
    pub password: String,
}

impl LogIn {
    pub const FIELDS: &[&str] = &["username", "password"];

    pub fn read(body: Map<String, Value>) -> Result<LogIn, ApiError> {
        let mut fields = Fields::new(body, Self::FIELDS);
        let username = fields.required("username", raw_string);
        let password = fields.required("password", raw_string);
        fields.finish()?;
        Ok(LogIn { username: checked(username)?, password: checked(password)? })
    }
}

/// Body of `POST /auth/refresh` and `POST /auth/logout`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"refresh_token": "01JQ8Z3N5V7KXW2M4P6R8T0Y1A.3q2-7wEjvYpUQk1vF0aXnR0kq9s"})))]
pub struct Refresh {
    /// The `refresh_token` of the last token pair.
    pub refresh_token: String,
}

impl Refresh {
    pub const FIELDS: &[&str] = &["refresh_token"];

    pub fn read(body: Map<String, Value>) -> Result<Refresh, ApiError> {
        let mut fields = Fields::new(body, Self::FIELDS);
        let token = fields.required("refresh_token", raw_string);
        fields.finish()?;
        Ok(Refresh { refresh_token: checked(token)? })
    }
}

/// The account a profile edit applies to, as its rules need it.
pub struct ProfileEdit<'a> {
    /// The stored username and email: a new password must not be made of them (nor of the new
    /// ones).
    pub username: &'a str,
    pub email: &'a str,
    /// Whether a new password needs the current one (it does unless an admin sets it).
    pub password_needs_current: bool,
}

/// The fields a profile edit takes, PUT and PATCH alike.
const PROFILE_FIELDS: &[&str] = &["username", "email", "password", "current_password", "email_notifications"];

impl ReplaceUser {
    pub const FIELDS: &[&str] = PROFILE_FIELDS;
}

impl PatchUser {
    pub const FIELDS: &[&str] = PROFILE_FIELDS;
}

impl ProfileEdit<'_> {
    /// PUT: username and email required.
    pub fn replace(&self, body: Map<String, Value>) -> Result<ReplaceUser, ApiError> {
        let mut fields = Fields::new(body, ReplaceUser::FIELDS);
        let username = fields.required("username", text(Username::parse));
        let email = fields.required("email", text(Email::parse));
        let (password, current_password, email_notifications) =
            self.password_and_notices(&mut fields, username.as_ref(), email.as_ref());
        fields.finish()?;
        Ok(ReplaceUser {
            username: checked(username)?,
            email: checked(email)?,
            password,
            current_password,
            email_notifications,
        })
    }

    /// PATCH: only the fields given change.
    pub fn patch(&self, body: Map<String, Value>) -> Result<PatchUser, ApiError> {
        let mut fields = Fields::new(body, PatchUser::FIELDS);
        let username = fields.present("username", text(Username::parse));
        let email = fields.present("email", text(Email::parse));
        let (password, current_password, email_notifications) =
            self.password_and_notices(&mut fields, username.as_ref(), email.as_ref());
        fields.finish()?;
        Ok(PatchUser { username, email, password, current_password, email_notifications })
    }

    /// The fields PUT and PATCH take alike. A new password needs `current_password` unless
    /// [`ProfileEdit::password_needs_current`] is false.
    fn password_and_notices(
        &self,
        fields: &mut Fields,
        username: Option<&Username>,
        email: Option<&Email>,
    ) -> (Option<Password>, Option<String>, Option<bool>) {
        let context = account_words(
            Some(username.map_or(self.username, Username::as_str)),
            Some(email.map_or(self.email, Email::as_str)),
        );
        let password = fields.present("password", text(|raw| Password::parse_for(raw, &context)));
        let current_password = fields.present("current_password", raw_string);
        let email_notifications = fields.present("email_notifications", boolean);
        if password.is_some() && self.password_needs_current && current_password.is_none() {
            fields.fail("current_password", "is required to change the password".into());
        }
        (password, current_password, email_notifications)
    }
}

/// A body that changes a profile: `PUT /users/{id}` and `PATCH /users/{id}` differ in how they
/// take the username and email, and take a new password alike.
macro_rules! profile_body {
    ($(#[$meta:meta])* $name:ident { $($fields:tt)* }) => {
        #[derive(ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        pub struct $name {
            $($fields)*
            /// A new password: at least 8 characters (at most 1024), not easily guessed (as for
            /// sign-up).
            #[schema(value_type = Option<String>, nullable = false, min_length = 8, max_length = 1024, format = Password)]
            pub password: Option<Password>,
            /// Required with `password`, unless the caller is an admin.
            #[schema(nullable = false, format = Password)]
            pub current_password: Option<String>,
            /// Whether the user gets email about their registrations and events (on by
            /// default). Every email also carries a one-click link that turns it off.
            #[schema(nullable = false)]
            pub email_notifications: Option<bool>,
        }
    };
}

profile_body!(
    /// Body of `PUT /users/{id}`: username and email are required. A new `password` needs the
    /// `current_password`, unless an admin sets it, and ends every session begun before it (its
    /// refresh tokens stop working).
    #[schema(examples(json!({"username": "alice", "email": "alice@example.org"})))]
    ReplaceUser {
        #[schema(value_type = String, pattern = r"^[A-Za-z0-9_.-]{3,30}$", min_length = 3, max_length = 30)]
        pub username: Username,
        #[schema(value_type = String, format = Email, max_length = 254)]
        pub email: Email,
    }
);

profile_body!(
    /// Body of `PATCH /users/{id}`: only the fields given change. A new `password` needs the
    /// `current_password`, unless an admin sets it, and ends every session begun before it (its
    /// refresh tokens stop working).
    #[schema(examples(json!({"email": "alice@example.org"})))]
    PatchUser {
        #[schema(value_type = Option<String>, nullable = false, pattern = r"^[A-Za-z0-9_.-]{3,30}$", min_length = 3, max_length = 30)]
        pub username: Option<Username>,
        #[schema(value_type = Option<String>, nullable = false, format = Email, max_length = 254)]
        pub email: Option<Email>,
    }
);

impl From<ReplaceUser> for PatchUser {
    /// A replacement is a patch that gives the username and email.
    fn from(body: ReplaceUser) -> PatchUser {
        PatchUser {
            username: Some(body.username),
            email: Some(body.email),
            password: body.password,
            current_password: body.current_password,
            email_notifications: body.email_notifications,
        }
    }
}
